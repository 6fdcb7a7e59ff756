--[[ Revoke one session.
KEYS[1] the user's session index      KEYS[2] the session record
ARGV[1] session id
Reply: 1 if the session existed, else 0
]]
redis.call('ZREM', KEYS[1], ARGV[1])
return redis.call('DEL', KEYS[2])
