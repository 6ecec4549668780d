#!/usr/bin/env python3
# strip-dsa-params.py CERT.pem: the certificate with its SubjectPublicKeyInfo
# AlgorithmIdentifier cut to the bare DSA OID (parameters inherited from
# the issuer, RFC 3279 2.3.2; PKITS ValidDSAParameterInheritanceTest5).
# The signature no longer verifies; the loader does not verify it.
import sys,base64,re
def tlv(b,i):
    t=b[i]; l=b[i+1]; h=2
    if l&0x80:
        n=l&0x7f; l=int.from_bytes(b[i+2:i+2+n],'big'); h=2+n
    return t,h,l
def enc(t,c):
    l=len(c)
    if l<0x80: return bytes([t,l])+c
    n=(l.bit_length()+7)//8
    return bytes([t,0x80|n])+l.to_bytes(n,'big')+c
def children(b):
    i=0;out=[]
    while i<len(b):
        t,h,l=tlv(b,i); out.append(b[i:i+h+l]); i+=h+l
    return out
def content(x):
    t,h,l=tlv(x,0); return x[h:h+l]
pem=open(sys.argv[1]).read()
der=base64.b64decode(''.join(re.search(r'-----BEGIN CERTIFICATE-----(.*?)-----END',pem,re.S).group(1).split()))
cert=children(content(der))
tbs=children(content(cert[0]))
# tbs: [0]version, serial, sig, issuer, validity, subject, spki, ...
s = 6 if tbs[0][0] == 0xa0 else 5
spki=children(content(tbs[s]))
alg=children(content(spki[0]))
spki[0]=enc(0x30,alg[0])          # AlgorithmIdentifier without parameters
tbs[s]=enc(0x30,b''.join(spki))
cert[0]=enc(0x30,b''.join(tbs))
out=enc(0x30,b''.join(cert))
b=base64.b64encode(out).decode()
print('-----BEGIN CERTIFICATE-----\n'+'\n'.join(b[i:i+64] for i in range(0,len(b),64))+'\n-----END CERTIFICATE-----')
