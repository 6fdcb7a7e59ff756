--[[ Logout: revoke the session if the presented secret is its newest, its predecessor or one of
its remembered older secrets (revoking is always the safe direction).
KEYS[1] the user's session index (or their only session: see record.lua)      KEYS[2] the session record
ARGV[1] now ms ('' = Redis TIME)      ARGV[2] deadline ms ('' = none)
ARGV[3] session id
ARGV[4] SHA-256 of the presented secret   ARGV[5] fingerprint bytes
ARGV[6] revocation channel ('' = do not publish)
Reply: 'late' (nothing written) after the deadline; else 1 revoked, 0 no live session, -1 the secret is not one of this session's
]]
local now = nowMs(ARGV[1])
if isLate(now, ARGV[2]) then return 'late' end
local index, key, sid = KEYS[1], KEYS[2], ARGV[3]
local packed = redis.call('GET', key)
local solo, live = false, false
if packed then
  live = isLiveKey(key, now)
else
  -- The user's only session may be kept in the index key (see record.lua).
  packed = soloValue(index)
  if packed then
    local soloSid, soloExpiresAt = soloEntry(packed)
    if soloSid ~= sid then return 0 end
    solo, live = true, soloExpiresAt > now
  end
end
if not packed or not live then
  removeSession(solo, index, key, sid)
  return 0
end
local fpBytes = tonumber(ARGV[5])
local h, _, rotatedAt, p, _, older, _, _, _, _, previousRotatedAt = readRecord(packed, fpBytes)
-- Any class but unknown is a secret of this session; the grace window does not matter here.
if classifySecret(h, p, older, rotatedAt, previousRotatedAt, ARGV[4], now, 0, fpBytes) == 'unknown' then return -1 end
removeSession(solo, index, key, sid)
announce(ARGV[6], now, sid)
return 1
