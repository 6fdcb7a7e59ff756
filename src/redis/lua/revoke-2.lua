--[[ Revoke one session.
KEYS[1] the user's session index      KEYS[2] the session record
ARGV[1] session id   ARGV[2] revocation channel ('' = do not publish)
Reply: 1 if the session existed, else 0
]]
redis.call('ZREM', KEYS[1], ARGV[1])
local existed = redis.call('DEL', KEYS[2])
if existed == 1 and ARGV[2] ~= '' then redis.call('PUBLISH', ARGV[2], ARGV[1]) end
return existed
