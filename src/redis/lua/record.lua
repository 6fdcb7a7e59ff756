--[[ The session record (see README.md): read whichever layout wrote it, write layout 2.
(scripts.ts puts this file in front of the session scripts, after session-rules.lua.)
Layout 1 (0.1.0): a MessagePack array of 10 to 13 fields, 32-byte hashes, 8-byte fingerprints,
times absolute. Layout 2: the byte 0x02, then the array: 16-byte verifiers, fingerprints of the
caller's FINGERPRINT_BYTES, times relative (rotatedAt after createdAt, previousRotatedAt before
rotatedAt). The leading byte tells them apart, and makes 0.1.0's scripts, which cannot read
layout 2, fail on it (an error, the record untouched) rather than misread its relative times.
]]
local LAYOUT1_FINGERPRINT_BYTES = 8
local LAYOUT2 = 2

-- The record's fields as a table (positions as in README.md), and whether it is layout 2.
local function decodeRecord (packed)
  if string.byte(packed, 1) == LAYOUT2 then return cmsgpack.unpack(string.sub(packed, 2)), true end
  return cmsgpack.unpack(packed), false
end

-- A table of fields as decodeRecord gave it, written back in the same layout.
local function encodeRecord (record, layout2)
  if layout2 then return string.char(LAYOUT2) .. cmsgpack.pack(record) end
  return cmsgpack.pack(record)
end

-- h, createdAt, rotatedAt, p, sealed, older, ua, ip, cid, data, previousRotatedAt, auth, binding
-- with times absolute (rotatedAt, previousRotatedAt: 0 = none) and older in fpBytes-wide
-- fingerprints; then, for a solo record (see soloValue), its session id and expiry.
local function readRecord (packed, fpBytes)
  local record, layout2 = decodeRecord(packed)
  local h, createdAt, rotatedAt, p, sealed, older, ua, ip, cid, data, previous, auth, binding, sid, expiresAt = unpack(record)
  if not layout2 then
    -- A fingerprint is a SHA-256 prefix: a shorter one is the start of the longer.
    if older ~= '' and fpBytes ~= LAYOUT1_FINGERPRINT_BYTES then
      local parts = {}
      for i = 1, #older, LAYOUT1_FINGERPRINT_BYTES do parts[#parts + 1] = string.sub(older, i, i + fpBytes - 1) end
      older = table.concat(parts)
    end
    return h, createdAt, rotatedAt, p, sealed, older, ua, ip, cid, data, previous or 0, auth or '', binding or ''
  end
  -- A rotation always leaves a predecessor; the previous rotation time goes with the older fingerprints.
  local previousRotatedAt = 0
  if p ~= '' then rotatedAt = createdAt + rotatedAt else rotatedAt = 0 end
  if older ~= '' then previousRotatedAt = rotatedAt - previous end
  return h, createdAt, rotatedAt, p, sealed, older, ua, ip, cid, data, previousRotatedAt, auth, binding, sid, expiresAt
end

-- Layout 2 of the fields readRecord returns; h and p must be verifiers (16 bytes) or ''. With sid
-- and expiresAt: a solo record.
local function packRecord (h, createdAt, rotatedAt, p, sealed, older, ua, ip, cid, data, previousRotatedAt, auth, binding, sid, expiresAt)
  local sinceCreated, sincePrevious = 0, 0
  if p ~= '' then sinceCreated = rotatedAt - createdAt end
  if older ~= '' then sincePrevious = rotatedAt - previousRotatedAt end
  return encodeRecord({ h, createdAt, sinceCreated, p, sealed, older, ua, ip, cid, data, sincePrevious, auth, binding, sid, expiresAt }, true)
end

--[[ A user with one session keeps it in the index key itself, a string instead of a sorted set:
the solo record, the record with two more fields, 14 its session id and 15 its expiry (what the
index entry would say; the key's own PXAT adds the index's linger, so that a refresh after the
end is still told `expired`). It saves the user a whole key (~150 B). A second session moves it
to its own record key and makes the index a sorted set again (create-3.lua). ]]
local SOLO_SID, SOLO_EXPIRES_AT = 14, 15

-- The index key's value when it holds the user's only session; nil when it is a sorted set or absent.
local function soloValue (index)
  local value = redis.pcall('GET', index)
  if type(value) == 'string' then return value end
  return nil
end

-- The solo record's session id and expiry.
local function soloEntry (value)
  local record = decodeRecord(value)
  return record[SOLO_SID], record[SOLO_EXPIRES_AT]
end

-- Make a solo index a sorted set again: its session, if it still lives, moves to its own record
-- key (base .. id) and becomes the index's one entry; the index keeps its TTL. Returns the moved
-- session id, or nil (the index held no session, or one that has ended: it is gone).
local function unsolo (index, base, now)
  local value = soloValue(index)
  if not value then return nil end
  local record = decodeRecord(value)
  local sid, expiresAt = record[SOLO_SID], record[SOLO_EXPIRES_AT]
  local indexExpiresAt = redis.call('PEXPIRETIME', index)
  redis.call('DEL', index)
  if expiresAt <= now then return nil end
  record[SOLO_SID], record[SOLO_EXPIRES_AT] = nil, nil
  redis.call('SET', base .. sid, encodeRecord(record, true), 'PXAT', expiresAt)
  redis.call('ZADD', index, expiresAt, sid)
  redis.call('PEXPIREAT', index, indexExpiresAt)
  return sid
end

-- Delete a session: the solo record (the index key), or its record key and index entry (pcall:
-- once an index was lost, the index key may hold another session, solo).
local function removeSession (solo, index, key, sid)
  if solo then
    redis.call('DEL', index)
  else
    redis.call('DEL', key)
    redis.pcall('ZREM', index, sid)
  end
end

-- A session's record as a table (positions as in README.md), the key it is kept at and whether
-- it is layout 2 (see encodeRecord), while it is live (by its key's TTL, or a solo record's
-- expiry); nil when there is none.
local function liveRecord (index, key, sid, now)
  local packed = redis.call('GET', key)
  if packed then
    if not isLiveKey(key, now) then return nil end
    local record, layout2 = decodeRecord(packed)
    return record, key, layout2
  end
  local solo = soloValue(index)
  if not solo then return nil end
  local record = decodeRecord(solo)
  if record[SOLO_SID] ~= sid or record[SOLO_EXPIRES_AT] <= now then return nil end
  return record, index, true
end
