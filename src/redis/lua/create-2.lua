--[[ Create a session, evicting the soonest-to-expire ones beyond the per-user cap.
KEYS[1] the user's session index (sorted set: session id -> expiresAt ms)
KEYS[2] the new session's record
ARGV[1] session id       ARGV[2] SHA-256 of the secret
ARGV[3] idle ttl ms      ARGV[4] absolute ttl ms     ARGV[5] max sessions per user
ARGV[6] user agent       ARGV[7] ip                  ARGV[8] client id
ARGV[9] how long the index outlives its newest session, ms
ARGV[10] opaque data ('' if none)
ARGV[11] revocation channel: evicted session ids are published there ('' = do not publish)
Reply: { createdAt, expiresAt, evictedSessionId... }
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local index, sid = KEYS[1], ARGV[1]
local sessionPrefix = string.sub(index, 1, -9) .. 's:'

redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
local reply = {}
local overflow = redis.call('ZCARD', index) - tonumber(ARGV[5]) + 1
if overflow > 0 then
  local evicted = redis.call('ZRANGE', index, 0, overflow - 1)
  for _, old in ipairs(evicted) do
    redis.call('DEL', sessionPrefix .. old)
    redis.call('ZREM', index, old)
  end
  reply = evicted
  if ARGV[11] ~= '' then redis.call('PUBLISH', ARGV[11], table.concat(evicted, ',')) end
end

local expiresAt = now + math.min(tonumber(ARGV[3]), tonumber(ARGV[4]))
redis.call('SET', KEYS[2], cmsgpack.pack({ ARGV[2], now, 0, '', '', '', ARGV[6], ARGV[7], ARGV[8], ARGV[10] }), 'PXAT', expiresAt)
redis.call('ZADD', index, expiresAt, sid)
local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', index, tonumber(last[2]) + tonumber(ARGV[9]))

table.insert(reply, 1, expiresAt)
table.insert(reply, 1, now)
return reply
