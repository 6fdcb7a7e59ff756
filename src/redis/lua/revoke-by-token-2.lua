--[[ Logout: revoke the session if the presented secret is its newest, its predecessor or one of
its remembered older secrets (revoking is always the safe direction).
KEYS[1] the user's session index      KEYS[2] the session record
ARGV[1] session id   ARGV[2] SHA-256 of the presented secret   ARGV[3] fingerprint bytes
ARGV[4] revocation channel ('' = do not publish)
Reply: 1 revoked, 0 no such session, -1 the secret is not one of this session's
]]
local packed = redis.call('GET', KEYS[2])
if not packed then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
local record = cmsgpack.unpack(packed)
local presented, fpBytes = ARGV[2], tonumber(ARGV[3])
local known = presented == record[1] or presented == record[4]
local fingerprint, older = string.sub(presented, 1, fpBytes), record[6]
for i = 1, #older, fpBytes do
  if known then break end
  known = string.sub(older, i, i + fpBytes - 1) == fingerprint
end
if not known then return -1 end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[4] ~= '' then redis.call('PUBLISH', ARGV[4], ARGV[1]) end
return 1
