--[[ The session record (see README.md): read whichever layout wrote it, write layout 2.
(scripts.ts puts this file in front of the session scripts, after session-rules.lua.)
Layout 1 (0.1.0): 32-byte hashes, 8-byte fingerprints, times absolute, 11 to 13 fields.
Layout 2: 16-byte verifiers, 6-byte fingerprints (the width is the caller's FINGERPRINT_BYTES),
previousRotatedAt as ms before rotatedAt. The first field's length tells them apart. rotatedAt
stays absolute: an instance still on 0.1.0 then reads a layout 2 record's expiry right, and only
fails to match its secrets (401, the session intact) instead of taking it for ended and dropping it.
]]
local LAYOUT1_HASH_BYTES, LAYOUT1_FINGERPRINT_BYTES = 32, 8

-- h, createdAt, rotatedAt, p, sealed, older, ua, ip, cid, data, previousRotatedAt, auth, binding
-- with times absolute (rotatedAt, previousRotatedAt: 0 = none) and older in fpBytes-wide fingerprints.
local function readRecord (packed, fpBytes)
  local h, createdAt, rotatedAt, p, sealed, older, ua, ip, cid, data, previous, auth, binding = unpack(cmsgpack.unpack(packed))
  if #h == LAYOUT1_HASH_BYTES then
    -- A fingerprint is a SHA-256 prefix: a shorter one is the start of the longer.
    if older ~= '' and fpBytes ~= LAYOUT1_FINGERPRINT_BYTES then
      local parts = {}
      for i = 1, #older, LAYOUT1_FINGERPRINT_BYTES do parts[#parts + 1] = string.sub(older, i, i + fpBytes - 1) end
      older = table.concat(parts)
    end
    return h, createdAt, rotatedAt, p, sealed, older, ua, ip, cid, data, previous or 0, auth or '', binding or ''
  end
  -- The previous rotation time goes with the older fingerprints.
  local previousRotatedAt = 0
  if older ~= '' then previousRotatedAt = rotatedAt - previous end
  return h, createdAt, rotatedAt, p, sealed, older, ua, ip, cid, data, previousRotatedAt, auth, binding
end

-- Layout 2 of the fields readRecord returns; h and p must be verifiers (16 bytes) or ''.
local function packRecord (h, createdAt, rotatedAt, p, sealed, older, ua, ip, cid, data, previousRotatedAt, auth, binding)
  local sincePrevious = 0
  if older ~= '' then sincePrevious = rotatedAt - previousRotatedAt end
  return cmsgpack.pack({ h, createdAt, rotatedAt, p, sealed, older, ua, ip, cid, data, sincePrevious, auth, binding })
end
