// SPDX-License-Identifier: BSD-3-Clause
// index.d.ts - TypeScript types of the headcount Node client (lib/index.js).
import { EventEmitter } from 'node:events';

/** A user id: 0 .. 2^64-1 (bigint, a safe integer, or a decimal/0x string). */
export type UserId = bigint | number | string;

export interface SessionOptions {
  /** "HOST[:PORT][,HOST[:PORT]...]" or a list; [IPV6]:PORT too; port 7100 by default. */
  appliance: string | string[];
  /** 1..65535, unique per appliance. */
  gatewayId: number;
  /** The appliance's key for this gateway id: 16 bytes or 32 hex digits. */
  key?: Uint8Array | string;
  /** The appliance's key slot holding it (0 or 1). */
  keySlot?: 0 | 1;
  /** No tags sent or checked (the appliance must run with --no-auth). */
  noAuth?: boolean;
  /** 0: from the clock, larger than any before in this process. */
  incarnation?: number;
  /** Batch timer, microseconds (1000). */
  flushUs?: number;
  /** Heartbeat period (100). */
  heartbeatMs?: number;
  /** PLACE resend period (250) and resends before TIMEOUT (8). */
  placeTimeoutMs?: number;
  placeRetries?: number;
  /** Sequenced datagrams kept for NACKs, a power of 2 (16384). */
  history?: number;
  /** LOST after this long without a good datagram (1000). */
  lostMs?: number;
  /** An HA pair behind one address: never accept an appliance incarnation
   *  older than the newest heard (a demoted master's ASSIGNs and MOVEs are
   *  refused, counted in stale_directives); as libheadcount's
   *  fence_appliance (false). */
  fenceAppliance?: boolean;
  /** The highest room id the appliance takes: its --max-rooms less one
   *  (262143 on its default; none unless set). join() above it throws
   *  RangeError: the appliance drops a datagram holding one whole, every
   *  resend and every snapshot naming the user (libheadcount's max_room). */
  maxRoom?: number;
  /** Local address to bind (HOST or HOST:PORT). */
  bind?: string;
}

// (a status this version does not know: '?' for 0, its number as a
// string for 7 and up)
export type AssignStatus = 'placed' | 'new_topic' | 'no_room' | 'timeout' | 'full' | 'superseded' |
  '?' | `${number}`;

export interface Assign {
  user: bigint;
  /** The PLACE's id; 0 for answers to a JOIN (new_topic, no_room, full, superseded). */
  requestId: number;
  room: number;
  refusedRoom: number;
  pool: number;
  status: AssignStatus;
}

export interface Move {
  user: bigint;
  from: number;
  to: number;
  directiveId: number;
  pool: number;
  attempt: number;
}

export type StateName = 'connecting' | 'connected' | 'lost' | 'id_conflict';
export type StateReason = 'heard' | 'silent' | 'restarted' | 'id_conflict' | 'conflict_over' | 'switched';

export interface StateChange {
  state: StateName;
  previous: StateName;
  reason: StateReason;
  appliance: string;
  applianceIndex: number;
  applianceIncarnation: number;
}

export interface SessionStats {
  joins: number; leaves: number; event_datagrams: number; retransmits: number; nacks: number;
  snapshots: number; snapshot_members: number; resync_requests: number; appliance_restarts: number;
  places: number; place_resends: number; place_timeouts: number; assigns: number; new_topics: number;
  moves: number; moves_ignored: number; heartbeats_sent: number; heartbeats_received: number;
  rx_bad: number; send_errors: number; digest_mismatches: number; digest_snapshots: number;
  sequence: number; acked: number; appliance_incarnation: number; appliance_users: number;
  /** the membership digest in the appliance's last heartbeat, a decimal u64 */
  appliance_digest: string;
  rx_bad_auth: number; rx_wrong_source: number; rx_stale: number; rx_replayed: number;
  id_conflicts: number; refusals: number; superseded: number; lost: number;
  appliance_switches: number; users: number; pending_places: number; state: StateName;
  /** ASSIGN and MOVE records in datagrams of an older appliance incarnation, refused */
  stale_directives: number; fence_appliance: boolean;
  /** datagrams not handed to a socket that had a history's worth in flight (sequenced ones: a NACK has them) */
  send_skipped: number;
  /** heartbeats acknowledging a sequence past ours: numbered on from it, everything stated again */
  acks_ahead: number;
}

export declare class Session extends EventEmitter {
  static open(options: SessionOptions): Promise<Session>;
  readonly state: StateName;
  readonly incarnation: number;
  readonly size: number;
  /** The user is in room of pool now (a move if elsewhere); false: already there. */
  join(user: UserId, room: number, pool?: number): boolean;
  /** The user left; false: not held. */
  leave(user: UserId): boolean;
  /** Ask for a placement; answered by an 'assign' event with the returned request id. */
  place(user: UserId, pool?: number): number;
  /** Send the open batches now. */
  flush(): void;
  roomOf(user: UserId): number;
  poolOf(user: UserId): number;
  members(): Array<[bigint, number, number]>;
  /** The membership digest (sum of hc_member_digest mod 2^64). */
  digest(): bigint;
  localPort(): number;
  appliance(): string;
  stats(): SessionStats;
  /** clean (default): flush and say SHUTDOWN; false: like a crash. */
  close(clean?: boolean): Promise<void>;

  on(event: 'assign', listener: (a: Assign) => void): this;
  /** With a listener the application moves the user (join(user, to, pool)); without, the session does. */
  on(event: 'move', listener: (m: Move) => void): this;
  on(event: 'state', listener: (c: StateChange) => void): this;
  on(event: 'socketError', listener: (e: Error) => void): this;
}

export declare const STATE: {
  CONNECTING: 'connecting'; CONNECTED: 'connected'; LOST: 'lost'; ID_CONFLICT: 'id_conflict';
};
export declare function open(options: SessionOptions): Promise<Session>;
export declare const proto: any;
