--[[ Revoke one session.
KEYS[1] the user's session index      KEYS[2] the session record
ARGV[1] now ms ('' = Redis TIME)      ARGV[2] session id
ARGV[3] revocation channel ('' = do not publish)
Reply: 1 if the session was live, else 0
]]
local now = nowMs(ARGV[1])
local live = isLiveKey(KEYS[2], now)
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('DEL', KEYS[2])
if not live then return 0 end
if ARGV[3] ~= '' then redis.call('PUBLISH', ARGV[3], ARGV[2]) end
return 1
