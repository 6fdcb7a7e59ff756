--[[ List a user's live sessions, dropping index entries whose session has gone.
KEYS[1] the user's session index
ARGV[1] idle ttl ms   ARGV[2] absolute ttl ms
Reply: flat, 8 per session: sessionId, createdAt, lastUsedAt, expiresAt, userAgent, ip, clientId, data
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local index = KEYS[1]
local sessionPrefix = string.sub(index, 1, -9) .. 's:'
redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
local reply = {}
for _, sid in ipairs(redis.call('ZRANGE', index, 0, -1)) do
  local packed = redis.call('GET', sessionPrefix .. sid)
  if packed then
    local _, createdAt, lastUsed, _, _, _, ua, ip, cid, data = unpack(cmsgpack.unpack(packed))
    if lastUsed == 0 then lastUsed = createdAt end
    local expiresAt = math.min(lastUsed + tonumber(ARGV[1]), createdAt + tonumber(ARGV[2]))
    if expiresAt > now then
      for _, v in ipairs({ sid, createdAt, lastUsed, expiresAt, ua, ip, cid, data }) do table.insert(reply, v) end
    end
  else
    redis.call('ZREM', index, sid)
  end
end
return reply
