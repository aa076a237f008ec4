-- SPDX-License-Identifier: BSD-3-Clause
-- membership.lua - the Redis peer's membership: the state the appliance
-- keeps, for the same events, in one Lua script (SCRIPT LOAD, EVALSHA).
--
--   KEYS[1]  hash user -> room (the user's id, 8 bytes big-endian, as the
--            appliance's user table; absent: not in a room)
--   KEYS[2]  hash room -> count (members in the room)
--   ARGV[1]  max: a room's most members (admission on: a JOIN into a full
--            room is refused, the user stays where it was)
--   ARGV[2..] events, three arguments each: op ("J" join, "L" leave),
--            user, room (decimal)
--
-- JOIN of the user's room: a no-op; JOIN of another room: a move (leave the
-- old room, join the new one) or, for an absent user, a join; LEAVE of the
-- user's room: a leave; LEAVE of another room: a no-op (as the appliance's
-- op_leave).  Returns the events' outcomes: {joins, moves, leaves, no-ops,
-- refused}.
local users, rooms = KEYS[1], KEYS[2]
local max = tonumber(ARGV[1])
local joins, moves, leaves, noops, refused = 0, 0, 0, 0, 0
for i = 2, #ARGV - 2, 3 do
  local op, user, room = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local cur = redis.call('HGET', users, user)
  if op == 'L' then
    if cur == room then
      redis.call('HDEL', users, user)
      redis.call('HINCRBY', rooms, room, -1)
      leaves = leaves + 1
    else
      noops = noops + 1
    end
  elseif cur == room then
    noops = noops + 1
  elseif redis.call('HINCRBY', rooms, room, 1) > max then
    redis.call('HINCRBY', rooms, room, -1) -- full: the seat is refused
    refused = refused + 1
  else
    if cur then
      redis.call('HINCRBY', rooms, cur, -1)
      moves = moves + 1
    else
      joins = joins + 1
    end
    redis.call('HSET', users, user, room)
  end
end
return {joins, moves, leaves, noops, refused}
