--[[ Create a session, evicting the soonest-to-expire ones beyond the per-user cap.
KEYS[1] the user's session index (sorted set: session id -> expiresAt ms; or their only session, see record.lua)
KEYS[2] the new session's record      KEYS[3] the user's session key base (KEYS[3] .. id = a record)
ARGV[1] now ms ('' = Redis TIME)      ARGV[2] deadline ms ('' = none)
ARGV[3] session id        ARGV[4] verifier of the secret (its SHA-256's first 16 bytes)
ARGV[5] idle ttl ms      ARGV[6] absolute ttl ms     ARGV[7] max sessions per user
ARGV[8] user agent (as ../user-agent.ts encodes it)   ARGV[9] ip (../compact-fields.ts)                  ARGV[10] client id       ARGV[11] opaque data
ARGV[12] how long the index outlives its newest session, ms
ARGV[13] revocation channel: evicted session ids are published there ('' = do not publish)
ARGV[14] authentication ('' = none)   ARGV[15] binding ('' = none; ../compact-fields.ts)
Reply: 'late' (nothing written) after the deadline; else { createdAt, expiresAt, evictedSessionId... }
]]
local now = nowMs(ARGV[1])
if isLate(now, ARGV[2]) then return 'late' end
local index, sid, base = KEYS[1], ARGV[3], KEYS[3]
local cap, linger = tonumber(ARGV[7]), tonumber(ARGV[12])
local expiresAt = sessionExpiry(now, now, tonumber(ARGV[5]), tonumber(ARGV[6]))
local reply = {}

-- A user whose only session is kept in the index key: at its end it goes as its index entry
-- would; under a cap of 1 it is evicted; else it moves to its own record key.
if cap <= 1 then
  local solo = soloValue(index)
  if solo then
    local soloSid, soloExpiresAt = soloEntry(solo)
    redis.call('DEL', index)
    if soloExpiresAt > now then
      reply = { soloSid }
      announce(ARGV[13], now, soloSid)
    end
  end
else
  unsolo(index, base, now)
end

redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
local count = redis.call('ZCARD', index)
-- The user's only session (no other one lives): kept solo, in the index key.
if count == 0 then
  redis.call('SET', index, packRecord(ARGV[4], now, 0, '', '', '', ARGV[8], ARGV[9], ARGV[10], ARGV[11], 0, ARGV[14], ARGV[15], sid, expiresAt), 'PXAT', expiresAt + linger)
  table.insert(reply, 1, expiresAt)
  table.insert(reply, 1, now)
  return reply
end

local overflow = count - cap + 1
if overflow > 0 then
  local evicted = redis.call('ZRANGE', index, 0, overflow - 1)
  for _, old in ipairs(evicted) do
    redis.call('DEL', base .. old)
    redis.call('ZREM', index, old)
  end
  reply = evicted
  announce(ARGV[13], now, table.concat(evicted, ','))
end

redis.call('SET', KEYS[2], packRecord(ARGV[4], now, 0, '', '', '', ARGV[8], ARGV[9], ARGV[10], ARGV[11], 0, ARGV[14], ARGV[15]), 'PXAT', expiresAt)
redis.call('ZADD', index, expiresAt, sid)
local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', index, tonumber(last[2]) + linger)

table.insert(reply, 1, expiresAt)
table.insert(reply, 1, now)
return reply
