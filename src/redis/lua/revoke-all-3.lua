--[[ Revoke every session of a user, optionally but one. The revocation is also written down as a
mark (`<now>:<kept id>`, living as long as any session made before it can), which rotate-3.lua
checks: a session the index has lost (evicted under a maxmemory policy the app accepted with
allowRedisEviction) is refused at its next refresh instead of living on.
KEYS[1] the user's session index (or their only session: see record.lua)      KEYS[2] the user's session key base (KEYS[2] .. id = a record)
KEYS[3] the user's revoke-all mark
ARGV[1] now ms ('' = Redis TIME)      ARGV[2] deadline ms ('' = none)
ARGV[3] session id to keep ('' = none)
ARGV[4] revocation channel ('' = do not publish)
ARGV[5] absolute ttl ms
Reply: 'late' (nothing written) after the deadline; else how many live sessions were revoked
]]
local now = nowMs(ARGV[1])
if isLate(now, ARGV[2]) then return 'late' end
local index, base, keep = KEYS[1], KEYS[2], ARGV[3]
local revoked = {}
local solo = soloValue(index)
if solo then
  -- The user's only session, kept in the index key (see record.lua).
  local sid, expiresAt = soloEntry(solo)
  if sid ~= keep then
    if expiresAt > now then table.insert(revoked, sid) end
    redis.call('DEL', index)
  end
else
  for _, sid in ipairs(redis.call('ZRANGE', index, 0, -1)) do
    if sid ~= keep then
      if isLiveKey(base .. sid, now) then table.insert(revoked, sid) end
      redis.call('DEL', base .. sid)
      redis.call('ZREM', index, sid)
    end
  end
end
redis.call('SET', KEYS[3], now .. ':' .. keep, 'PXAT', now + tonumber(ARGV[5]))
if #revoked > 0 then announce(ARGV[4], now, table.concat(revoked, ',')) end
return #revoked
