#!/usr/bin/env python3
"""Read and tamper with metricsd recordings (metricsd-recording(5)) for
the record/replay tests, independently of the C reader.

  rec_tool.py info FILE            frames, whole or cut, header fields (JSON)
  rec_tool.py frames FILE [K]      the (first K) whole frames, one hex line each
  rec_tool.py cut FILE OFF OUT     OUT = the first OFF bytes; prints the
                                   whole frames before OFF
  rec_tool.py cuts FILE SEED       KIND:OFF lines, one offset to cut FILE at
                                   for each KIND, at frames chosen by SEED:
                                   first (inside frame 0), header (inside a
                                   frame's 12-byte header), headeronly (its
                                   header whole, no payload byte), payload
                                   (inside a payload), last (one byte short
                                   of the end), boundary (right after a
                                   frame: not a cut at all)
  rec_tool.py retime FILE STEP OUT frame i received at i * STEP ns
  rec_tool.py set FILE FIELD VALUE OUT   magic (text) or version (int)
  rec_tool.py same-store A.json B.json   two `read --json --values`
                                   outputs equal but for _store.dir
"""
import json
import random
import struct
import sys

HEADER = 64
FRAME_HEADER = 12


def parse(data):
    if len(data) < HEADER or data[:8] != b"MTRDRECD":
        raise SystemExit("not a recording")
    version, hsize, wire, flags, rt, mono = struct.unpack_from("<IIIIQQ", data, 8)
    frames, off = [], hsize
    while off + FRAME_HEADER <= len(data):
        n, t = struct.unpack_from("<IQ", data, off)
        if off + FRAME_HEADER + n > len(data):
            break
        frames.append((off, t, data[off + FRAME_HEADER:off + FRAME_HEADER + n]))
        off += FRAME_HEADER + n
    info = {"version": version, "header_size": hsize, "wire": wire,
            "flags": flags, "start_realtime_ns": rt,
            "start_monotonic_ns": mono, "frames": len(frames),
            "whole": off == len(data), "end": off, "size": len(data)}
    return info, frames


def main(argv):
    cmd, path = argv[1], argv[2]
    if cmd == "same-store":
        a, b = (json.load(open(p)) for p in argv[2:4])
        for d in (a, b):
            d["_store"].pop("dir", None)
        if a != b:
            for k in sorted(set(a) | set(b)):
                if a.get(k) != b.get(k):
                    print("differs: %s: %r != %r" % (k, a.get(k), b.get(k)))
            return 1
        return 0
    data = open(path, "rb").read()
    if cmd == "set":
        field, value, out = argv[3], argv[4], argv[5]
        b = bytearray(data)
        if field == "magic":
            b[0:8] = value.encode().ljust(8, b"\0")[:8]
        else:
            struct.pack_into("<I", b, 8, int(value))
        open(out, "wb").write(b)
        return 0
    info, frames = parse(data)
    if cmd == "info":
        print(json.dumps(info))
    elif cmd == "frames":
        k = int(argv[3]) if len(argv) > 3 else len(frames)
        for _, _, f in frames[:k]:
            print(f.hex())
    elif cmd == "cut":
        off, out = int(argv[3]), argv[4]
        open(out, "wb").write(data[:off])
        print(sum(1 for o, _, f in frames if o + FRAME_HEADER + len(f) <= off))
    elif cmd == "cuts":
        rnd = random.Random(int(argv[3]))
        if len(frames) < 3 or not info["whole"]:
            raise SystemExit("cuts: want a whole recording of 3 frames or more")

        def mid():
            return frames[rnd.randrange(1, len(frames) - 1)]
        o, _, f = frames[0]
        print("first:%d" % (o + 1 + rnd.randrange(FRAME_HEADER + len(f) - 1)))
        print("header:%d" % (mid()[0] + 1 + rnd.randrange(FRAME_HEADER - 1)))
        print("headeronly:%d" % (mid()[0] + FRAME_HEADER))
        o, _, f = mid()
        print("payload:%d" % (o + FRAME_HEADER + 1 + rnd.randrange(len(f) - 1)))
        print("last:%d" % (len(data) - 1))
        o, _, f = mid()
        print("boundary:%d" % (o + FRAME_HEADER + len(f)))
    elif cmd == "retime":
        step, out = int(argv[3]), argv[4]
        b = bytearray(data)
        for i, (o, _, _) in enumerate(frames):
            struct.pack_into("<Q", b, o + 4, i * step)
        open(out, "wb").write(b)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
