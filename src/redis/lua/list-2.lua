--[[ List a user's live sessions, dropping index entries whose session has gone.
KEYS[1] the user's session index (or their only session: see record.lua)      KEYS[2] the user's session key base (KEYS[2] .. id = a record)
ARGV[1] now ms ('' = Redis TIME)      ARGV[2] idle ttl ms   ARGV[3] absolute ttl ms
Reply: flat, 10 per session: sessionId, createdAt, lastUsedAt, expiresAt, userAgent, ip, clientId, data, authentication, binding
]]
local now = nowMs(ARGV[1])
local index, base = KEYS[1], KEYS[2]
local idle, absolute = tonumber(ARGV[2]), tonumber(ARGV[3])
local reply = {}
local solo = soloValue(index)
if solo then
  -- The user's only session, kept in the index key (see record.lua).
  local _, createdAt, lastUsed, _, _, _, ua, ip, cid, data, _, auth, binding, sid, soloExpiresAt = readRecord(solo, LAYOUT1_FINGERPRINT_BYTES)
  -- Ended: gone, as its index entry would be.
  if soloExpiresAt <= now then
    redis.call('DEL', index)
    return reply
  end
  if lastUsed == 0 then lastUsed = createdAt end
  local expiresAt = sessionExpiry(createdAt, lastUsed, idle, absolute)
  if expiresAt > now then reply = { sid, createdAt, lastUsed, expiresAt, ua, ip, cid, data, auth, binding } end
  return reply
end
redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
for _, sid in ipairs(redis.call('ZRANGE', index, 0, -1)) do
  local packed = redis.call('GET', base .. sid)
  if packed then
    -- The fingerprint width does not matter here: older is not read.
    local _, createdAt, lastUsed, _, _, _, ua, ip, cid, data, _, auth, binding = readRecord(packed, LAYOUT1_FINGERPRINT_BYTES)
    if lastUsed == 0 then lastUsed = createdAt end
    local expiresAt = sessionExpiry(createdAt, lastUsed, idle, absolute)
    if expiresAt > now then
      for _, v in ipairs({ sid, createdAt, lastUsed, expiresAt, ua, ip, cid, data, auth, binding }) do table.insert(reply, v) end
    end
  else
    redis.call('ZREM', index, sid)
  end
end
return reply
