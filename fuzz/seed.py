"""Writes fuzz seeds: the inflated op stream of a changeset file, cut into small pieces."""
import os, struct, sys, zlib

data = open(sys.argv[1], "rb").read()
hlen = struct.unpack_from("<I", data, 10)[0]
blen = struct.unpack_from("<Q", data, 14)[0]
body = data[22 + hlen: 22 + hlen + blen]
raw = zlib.decompress(body, -15)
out = "corpus/changeset_stream"
os.makedirs(out, exist_ok=True)
open(os.path.join(out, "seed"), "wb").write(raw)
print(len(raw), "bytes of stream")
