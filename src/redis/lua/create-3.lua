--[[ Create a session, evicting the soonest-to-expire ones beyond the per-user cap.
KEYS[1] the user's session index (sorted set: session id -> expiresAt ms)
KEYS[2] the new session's record      KEYS[3] the user's session key base (KEYS[3] .. id = a record)
ARGV[1] now ms ('' = Redis TIME)      ARGV[2] session id        ARGV[3] SHA-256 of the secret
ARGV[4] idle ttl ms      ARGV[5] absolute ttl ms     ARGV[6] max sessions per user
ARGV[7] user agent       ARGV[8] ip                  ARGV[9] client id       ARGV[10] opaque data
ARGV[11] how long the index outlives its newest session, ms
ARGV[12] revocation channel: evicted session ids are published there ('' = do not publish)
Reply: { createdAt, expiresAt, evictedSessionId... }
]]
local now = nowMs(ARGV[1])
local index, sid, base = KEYS[1], ARGV[2], KEYS[3]

redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
local reply = {}
local overflow = redis.call('ZCARD', index) - tonumber(ARGV[6]) + 1
if overflow > 0 then
  local evicted = redis.call('ZRANGE', index, 0, overflow - 1)
  for _, old in ipairs(evicted) do
    redis.call('DEL', base .. old)
    redis.call('ZREM', index, old)
  end
  reply = evicted
  if ARGV[12] ~= '' then redis.call('PUBLISH', ARGV[12], table.concat(evicted, ',')) end
end

local expiresAt = sessionExpiry(now, now, tonumber(ARGV[4]), tonumber(ARGV[5]))
redis.call('SET', KEYS[2], cmsgpack.pack({ ARGV[3], now, 0, '', '', '', ARGV[7], ARGV[8], ARGV[9], ARGV[10] }), 'PXAT', expiresAt)
redis.call('ZADD', index, expiresAt, sid)
local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', index, tonumber(last[2]) + tonumber(ARGV[11]))

table.insert(reply, 1, expiresAt)
table.insert(reply, 1, now)
return reply
