--[[ Revoke every session of a user, optionally but one.
KEYS[1] the user's session index
ARGV[1] session id to keep ('' = none)   ARGV[2] revocation channel ('' = do not publish)
Reply: how many live sessions were revoked
]]
local index, keep = KEYS[1], ARGV[1]
local sessionPrefix = string.sub(index, 1, -9) .. 's:'
local revoked = {}
for _, sid in ipairs(redis.call('ZRANGE', index, 0, -1)) do
  if sid ~= keep then
    if redis.call('DEL', sessionPrefix .. sid) == 1 then table.insert(revoked, sid) end
    redis.call('ZREM', index, sid)
  end
end
if #revoked > 0 and ARGV[2] ~= '' then redis.call('PUBLISH', ARGV[2], table.concat(revoked, ',')) end
return #revoked
