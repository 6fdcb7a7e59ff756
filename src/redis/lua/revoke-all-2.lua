--[[ Revoke every session of a user, optionally but one.
KEYS[1] the user's session index      KEYS[2] the user's session key base (KEYS[2] .. id = a record)
ARGV[1] now ms ('' = Redis TIME)      ARGV[2] session id to keep ('' = none)
ARGV[3] revocation channel ('' = do not publish)
Reply: how many live sessions were revoked
]]
local now = nowMs(ARGV[1])
local index, base, keep = KEYS[1], KEYS[2], ARGV[2]
local revoked = {}
for _, sid in ipairs(redis.call('ZRANGE', index, 0, -1)) do
  if sid ~= keep then
    if isLiveKey(base .. sid, now) then table.insert(revoked, sid) end
    redis.call('DEL', base .. sid)
    redis.call('ZREM', index, sid)
  end
end
if #revoked > 0 and ARGV[3] ~= '' then redis.call('PUBLISH', ARGV[3], table.concat(revoked, ',')) end
return #revoked
