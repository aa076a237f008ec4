# SPDX-License-Identifier: BSD-3-Clause
defmodule HeadCount.Proto do
  @moduledoc """
  The wire format of headcount protocol v3 (docs/protocol.md; the C
  definition is proto/hc_proto.h): header, records of every type,
  sealing and checking tags, the membership digest, serial-number order.
  Pure functions, no state: the session (HeadCount.Session) owns state.

  Every multi-byte field is big-endian; records have fixed sizes; a
  datagram is `40 + prefix + count * record_size` bytes exactly.
  """
  import Bitwise
  alias HeadCount.SipHash

  @magic 0x48434E54
  @version 3
  def version, do: @version
  def default_port, do: 7100

  # message types
  def events, do: 1
  def place, do: 2
  def assign, do: 3
  def move, do: 4
  def heartbeat, do: 5
  def snapshot, do: 6
  def resync, do: 7

  # header flags
  @f_auth 0x0001
  @f_key_slot 0x0002
  @f_a2g 0x0004
  @f_known 0x0007
  def f_a2g, do: @f_a2g

  # heartbeat flags
  def hb_resync_needed, do: 0x1
  def hb_shutdown, do: 0x2
  def hb_id_conflict, do: 0x4
  def hb_settling, do: 0x8

  # event ops
  def op_join, do: 1
  def op_leave, do: 2

  # ASSIGN status (4 is never sent: the client's TIMEOUT)
  @status %{
    1 => :placed,
    2 => :new_topic,
    3 => :no_room,
    4 => :timeout,
    5 => :full,
    6 => :superseded
  }
  def status_name(n), do: Map.get(@status, n, :unknown)

  # RESYNC reasons
  def resync_gap, do: 1

  @hdr 40
  @mtu_payload 1472
  # the largest payload any datagram may have (HC_MAX_PAYLOAD)
  @max_payload 8972
  @doc "Largest payload within a 1500-byte MTU (HC_MAX_PAYLOAD_MTU1500)."
  def mtu_payload, do: @mtu_payload
  @doc "Events (24 bytes) in one 1500-MTU datagram: (1472 - 40) / 24 = 59."
  def events_per, do: div(@mtu_payload - @hdr, 24)
  @doc "PLACE records (16 bytes) in one 1500-MTU datagram: 89."
  def places_per, do: div(@mtu_payload - @hdr, 16)
  @doc "Snapshot members (24 bytes, after a 16-byte prefix) per chunk: 59."
  def members_per, do: div(@mtu_payload - @hdr - 16, 24)

  @doc "Is serial number `a` after `b` (RFC 1982, 32 bits)?"
  def seq_after(a, b) do
    d = a - b &&& 0xFFFFFFFF
    d != 0 and d < 0x80000000
  end

  @doc """
  The membership digest of one user in one room (hc_member_digest), mod 2^64.
  A gateway's digest is the sum of its users' digests, mod 2^64.
  """
  def member_digest(user, room) do
    h =
      bxor(
        user * 0x9E3779B97F4A7C15 &&& 0xFFFFFFFFFFFFFFFF,
        room * 0xC2B2AE3D27D4EB4F &&& 0xFFFFFFFFFFFFFFFF
      )

    h = bxor(h, h >>> 31)
    h = h * 0xBF58476D1CE4E5B9 &&& 0xFFFFFFFFFFFFFFFF
    bxor(h, h >>> 29)
  end

  @doc "Add (or, with a negative sign, remove) a member's digest: mod 2^64."
  def digest_add(d, x), do: d + x &&& 0xFFFFFFFFFFFFFFFF
  def digest_sub(d, x), do: d - x &&& 0xFFFFFFFFFFFFFFFF

  # ----------------------------------------------------------- records --

  def event(user, room, op, pool, session),
    do: <<user::64, room::32, op::8, 0::8, pool::16, session::64>>

  def place_rec(user, request, pool), do: <<user::64, request::32, pool::16, 0::16>>

  def assign_rec(user, request, room, refused, pool, status),
    do: <<user::64, request::32, room::32, refused::32, pool::16, status::8, 0::8>>

  def move_rec(user, from, to, directive, pool, attempt),
    do: <<user::64, from::32, to::32, directive::32, pool::16, attempt::16>>

  def heartbeat_rec(last_seq, users, interval_ms, flags, digest),
    do: <<last_seq::32, users::32, interval_ms::32, flags::32, digest::64>>

  def snapshot_prefix(id, index, count, total), do: <<id::32, index::32, count::32, total::32>>

  def member(user, room, pool, session), do: <<user::64, room::32, pool::16, 0::16, session::64>>

  def resync_rec(reason, first, last), do: <<reason::32, first::32, last::32, 0::32>>

  # ------------------------------------------------------------ header --

  @doc """
  A complete datagram as iodata: header (type, flags, ids, count,
  incarnations, sequence) then `body` (iodata), sealed under `key` in
  `slot` (AUTH, and KEY_SLOT for slot 1) unless `key` is nil.
  """
  def datagram(type, flags, gw, count, ginc, ainc, seq, body, key, slot) do
    if key == nil do
      [
        <<@magic::32, @version, type, flags::16, gw::16, count::16, ginc::32, ainc::32, seq::32,
          0::128>>,
        body
      ]
    else
      flags =
        if slot == 1,
          do: flags ||| @f_auth ||| @f_key_slot,
          else: (flags ||| @f_auth) &&& ~~~@f_key_slot

      pre =
        <<@magic::32, @version, type, flags::16, gw::16, count::16, ginc::32, ainc::32, seq::32>>

      tag = SipHash.tag(key, [pre, <<0::128>> | body])
      [pre, tag | body]
    end
  end

  @doc "The same as a binary."
  def datagram_bin(type, flags, gw, count, ginc, ainc, seq, body, key, slot),
    do: IO.iodata_to_binary(datagram(type, flags, gw, count, ginc, ainc, seq, body, key, slot))

  @doc """
  Check a datagram's tag: `{:ok, slot}` if it carries AUTH and its tag is
  the datagram's under the key of the slot it names (`keys`: a map slot =>
  key), `:error` otherwise.  Compared without an early exit.
  """
  def verify(
        <<pre::binary-size(6), flags::16, mid::binary-size(16), got::binary-size(16),
          rest::binary>>,
        keys
      ) do
    slot = if (flags &&& @f_key_slot) != 0, do: 1, else: 0
    key = Map.get(keys, slot)

    if (flags &&& @f_auth) == 0 or key == nil do
      :error
    else
      want = SipHash.tag(key, [pre, <<flags::16>>, mid, <<0::128>> | rest])
      <<g1::64, g2::64>> = got
      <<w1::64, w2::64>> = want
      if (bxor(g1, w1) ||| bxor(g2, w2)) == 0, do: {:ok, slot}, else: :error
    end
  end

  def verify(_, _), do: :error

  @doc """
  Parse an A->G datagram addressed to gateway `gw`, incarnation `ginc`
  (the checks of libheadcount's handle(), before the tag): magic,
  version, an A->G type, only known flags and A2G set, an appliance
  incarnation, our gateway id and exact length.  `{:ok, hdr}` (a map with
  `:type, :flags, :count, :ainc, :ctr, :records`) or `{:error, :rx_bad}`.
  """
  def parse_a2g(
        <<@magic::32, @version, type, flags::16, gw::16, count::16, ginc::32, ainc::32, ctr::32,
          _tag::binary-size(16), records::binary>>,
        gw,
        ginc
      )
      when type in 3..7 and type != 6 and ainc != 0 do
    rec = rec_size(type)

    cond do
      (flags &&& ~~~@f_known) != 0 ->
        {:error, :rx_bad}

      (flags &&& @f_a2g) == 0 ->
        {:error, :rx_bad}

      byte_size(records) != count * rec ->
        {:error, :rx_bad}

      byte_size(records) + @hdr > @max_payload ->
        {:error, :rx_bad}

      type in [5, 7] and count != 1 ->
        # a HEARTBEAT or RESYNC is one record
        {:error, :rx_bad}

      true ->
        {:ok, %{type: type, flags: flags, count: count, ainc: ainc, ctr: ctr, records: records}}
    end
  end

  def parse_a2g(_, _, _), do: {:error, :rx_bad}

  defp rec_size(3), do: 24
  defp rec_size(4), do: 24
  defp rec_size(5), do: 24
  defp rec_size(7), do: 16

  @doc "Decode one record of an A->G type into a map."
  def decode(3, <<user::64, req::32, room::32, refused::32, pool::16, status::8, _::8>>),
    do: %{user: user, request: req, room: room, refused: refused, pool: pool, status: status}

  def decode(4, <<user::64, from::32, to::32, directive::32, pool::16, attempt::16>>),
    do: %{user: user, from: from, to: to, directive: directive, pool: pool, attempt: attempt}

  def decode(5, <<last::32, users::32, interval::32, flags::32, digest::64>>),
    do: %{last_sequence: last, users: users, interval_ms: interval, flags: flags, digest: digest}

  def decode(7, <<reason::32, first::32, last::32, snap::32>>),
    do: %{reason: reason, first: first, last: last, snapshot_id: snap}

  @doc "The records of a parsed datagram, decoded, in order."
  def records(%{type: type, records: bin}) do
    size = rec_size(type)
    for <<r::binary-size(size) <- bin>>, do: decode(type, r)
  end
end
