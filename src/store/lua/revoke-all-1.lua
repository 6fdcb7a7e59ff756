--[[ Revoke every session of a user, optionally but one.
KEYS[1] the user's session index
ARGV[1] session id to keep ('' = none)
Reply: how many live sessions were revoked
]]
local index, keep = KEYS[1], ARGV[1]
local sessionPrefix = string.sub(index, 1, -9) .. 's:'
local revoked = 0
for _, sid in ipairs(redis.call('ZRANGE', index, 0, -1)) do
  if sid ~= keep then
    revoked = revoked + redis.call('DEL', sessionPrefix .. sid)
    redis.call('ZREM', index, sid)
  end
end
return revoked
