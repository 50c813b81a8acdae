# SPDX-License-Identifier: MIT
"""Tests of gtd.py against a real gtd ($GTD, $GT_TESTCHILD; `make
check-python` sets both): the socket (calls, pipelining, errors), reads
from the mirror and their answers when it cannot give them, a value
there as soon as its reply is, a storm of setattrs read by another
process that checks every record, and the reader fed broken files, where
it may only answer or fall back, never raise anything else.
Every wait has a deadline; nothing sleeps for a fixed time."""

import json
import os
import random
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gtd  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
GTD = os.environ.get("GTD", os.path.join(HERE, "..", "..", "build", "gtd"))
CHILD = os.environ.get("GT_TESTCHILD",
                       os.path.join(HERE, "..", "..", "build",
                                    "gt-testchild"))


class Daemon(object):
    """gtd on a private socket, started with -r (a readiness pipe)."""

    def __init__(self, config=None):
        self.dir = tempfile.mkdtemp(prefix="gtd-py-")
        self.sock = os.path.join(self.dir, "sock")
        args = [GTD, "-d", "-s", self.sock]
        if config is not None:
            conf = os.path.join(self.dir, "gtd.json")
            with open(conf, "w") as f:
                json.dump(config, f)
            args += ["-c", conf]
        r, w = os.pipe()
        self.log = open(os.path.join(self.dir, "gtd.log"), "w")
        self.proc = subprocess.Popen(args + ["-r", str(w)], pass_fds=(w,),
                                     stdin=subprocess.DEVNULL,
                                     stderr=self.log)
        os.close(w)
        ready, _, _ = select.select([r], [], [], 10)
        line = os.read(r, 16) if ready else b""
        os.close(r)
        if line != b"\n":
            self.stop()
            raise RuntimeError("gtd did not get ready: see %s" % self.dir)

    def start(self, g, name, attrs=None):
        spec = {"op": "start_child", "name": name, "cmd": [CHILD]}
        if attrs:
            spec["attrs"] = attrs
        r = g.call(spec)
        assert r.get("ok"), r
        return r["pid"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class DaemonTest(unittest.TestCase):
    config = None

    def setUp(self):
        self.d = Daemon(self.config)
        self.g = gtd.Gtd(self.d.sock, timeout=15)

    def tearDown(self):
        self.g.close()
        self.d.stop()


def text_of(n):
    """A text that encodes n, of a length that varies with n."""
    body = "%d:%s" % (n, chr(97 + n % 26) * ((n * 7919) % 2000))
    return "%s:%08x" % (body, gtd._hash(0, body.encode()))


class SocketTest(DaemonTest):
    def test_call(self):
        r = self.g.call({"op": "hello", "id": 7})
        self.assertTrue(r["ok"])
        self.assertEqual(r["id"], 7)
        self.assertEqual(r["protocol"], 1)
        r = self.g.call('{"op":"nope"}\n')
        self.assertEqual(r["error"], "unknown_op")

    def test_pipeline(self):
        replies = self.g.pipeline({"op": "ping", "id": i}
                                  for i in range(2000))
        self.assertEqual([r["id"] for r in replies], list(range(2000)))
        self.g.send({"op": "ping", "id": "a"})
        with self.assertRaises(gtd.Error):
            self.g.call({"op": "ping"})      # a reply is unread
        self.assertEqual(self.g.recv()["id"], "a")

    def test_one_line(self):
        with self.assertRaises(ValueError):
            self.g.call('{"op":"ping"}\n{"op":"ping"}')


class MirrorTest(DaemonTest):
    config = {"max_mirror_bytes": 1 << 20}

    def test_reads(self):
        pid = self.d.start(self.g, "web", {"n": 3, "d": 0.5, "s": "h\u00e9",
                                          "j": [1, {"a": None}],
                                          "t": True})
        self.d.start(self.g, "db")
        self.assertEqual(self.g.find("web"), gtd.Child("web", pid,
                                                       "running", 0))
        self.assertEqual(self.g.getattr("web", "n"), 3)
        self.assertEqual(self.g.getattr("web", "d"), 0.5)
        self.assertEqual(self.g.getattr("web", "s"), "h\u00e9")
        self.assertEqual(self.g.getattr("web", "j"), [1, {"a": None}])
        self.assertIs(self.g.getattr("web", "t"), True)
        self.assertEqual(list(self.g.attrs("web").items()),
                         [("d", 0.5), ("j", [1, {"a": None}]), ("n", 3),
                          ("s", "h\u00e9"), ("t", True)])
        self.assertEqual(sorted(c.name for c in self.g.children()),
                         ["db", "web"])
        with self.assertRaises(gtd.NotFound):
            self.g.find("none")
        with self.assertRaises(gtd.NoAttr):
            self.g.getattr("web", "none")
        self.assertTrue(self.g.call({"op": "terminate_child",
                                     "name": "db"})["ok"])
        with self.assertRaises(gtd.NotRunning) as cm:
            self.g.find("db")
        self.assertEqual(cm.exception.child.state, "stopped")
        with self.assertRaises(gtd.NotRunning):
            self.g.getattr("db", "n")
        st = self.g.mirror_stat()
        self.assertTrue(st["mapped"])
        self.assertEqual(st["fallbacks"], 0)

    def test_same_answers_by_socket(self):
        self.d.start(self.g, "web", {"n": 3, "s": "x", "j": {"k": [1]}})
        s = gtd.Gtd(self.d.sock, mirror=False)
        try:
            for name, key in (("web", "n"), ("web", "s"), ("web", "j")):
                self.assertEqual(s.getattr(name, key),
                                 self.g.getattr(name, key))
            self.assertEqual(s.attrs("web"), self.g.attrs("web"))
            self.assertEqual(s.find("web"), self.g.find("web"))
            self.assertEqual(s.children(), self.g.children())
            for f in (lambda g: g.find("no"), lambda g: g.attrs("no"),
                      lambda g: g.getattr("web", "no")):
                for g in (s, self.g):
                    self.assertRaises((gtd.NotFound, gtd.NoAttr), f, g)
            self.assertGreater(s.mirror_stat()["fallbacks"], 0)
            self.assertEqual(self.g.mirror_stat()["fallbacks"], 0)
        finally:
            s.close()

    def test_after_reply(self):
        for i in range(40):
            self.d.start(self.g, "c%d" % i)
        for n in range(1200):
            name = "c%d" % (n % 40)
            r = self.g.call({"op": "setattr", "name": name,
                             "attrs": {"n": n, "s": text_of(n)}})
            self.assertTrue(r["ok"], r)
            self.assertEqual(self.g.getattr(name, "n"), n)
            self.assertEqual(self.g.getattr(name, "s"), text_of(n))
        st = self.g.mirror_stat()
        self.assertEqual(st["fallbacks"], 0)
        self.assertGreater(st["remaps"], 1)     # the file grew

    def test_storm(self):
        """A forked reader checks every record while this process
        writes; then it must see the final values."""
        names = ["w%d" % i for i in range(4)]
        pids = [self.d.start(self.g, n) for n in names]
        stop_r, stop_w = os.pipe()
        res_r, res_w = os.pipe()
        child = os.fork()
        if child == 0:
            os.close(stop_w)
            os.close(res_r)
            code = 1
            try:
                code = storm_reader(self.d.sock, names, pids, stop_r, res_w)
            finally:
                os._exit(code)
        os.close(stop_r)
        os.close(res_w)
        final = {}
        for base in range(0, 6000, 100):
            reqs = []
            for n in range(base + 1, base + 101):
                name = names[n % 4]
                final[name] = n
                reqs.append({"op": "setattr", "name": name,
                             "attrs": {"n": n, "m": 3 * n + 1,
                                       "s": text_of(n)}})
            self.assertTrue(all(r["ok"] for r in self.g.pipeline(reqs)))
        os.write(stop_w, json.dumps(final).encode())
        os.close(stop_w)
        out = b""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready, _, _ = select.select([res_r], [], [], 1)
            if ready:
                chunk = os.read(res_r, 4096)
                if not chunk:
                    break
                out += chunk
        os.close(res_r)
        _, status = os.waitpid(child, 0)
        report = json.loads(out or b"{}")
        self.assertEqual(status, 0, report)
        self.assertEqual(report.get("bad"), [], report)
        self.assertGreater(report.get("reads", 0), 200)


def storm_reader(sock, names, pids, stop, out):
    g = gtd.Gtd(sock)
    bad, last, reads = [], dict.fromkeys(names, 0), 0
    while not select.select([stop], [], [], 0)[0]:
        for name, pid in zip(names, pids):
            reads += 1
            c = g.find(name)
            if c.pid != pid:
                bad.append("%s: pid %d" % (name, c.pid))
            a = g.attrs(name)
            if a:
                n = a.get("n")
                if (set(a) != {"n", "m", "s"} or a["m"] != 3 * n + 1 or
                        a["s"] != text_of(n)):
                    bad.append("%s: torn %r" % (name, sorted(a)))
                elif n < last[name]:
                    bad.append("%s: %d after %d" % (name, n, last[name]))
                else:
                    last[name] = n
    final = json.loads(os.read(stop, 65536))
    for name in names:
        if g.getattr(name, "n") != final[name]:
            bad.append("%s: not final" % name)
    st = g.mirror_stat()
    os.write(out, json.dumps({"bad": bad[:10], "reads": reads,
                              "fallbacks": st["fallbacks"]}).encode())
    g.close()
    return 0


class CapTest(DaemonTest):
    config = {"max_mirror_bytes": 65536, "max_attr_value_bytes": 131072}

    def test_over_the_cap(self):
        self.d.start(self.g, "big")
        blob = "Q" * 70000
        self.assertTrue(self.g.call({"op": "setattr", "name": "big",
                                     "attrs": {"blob": blob}})["ok"])
        self.assertEqual(self.g.find("big").name, "big")
        before = self.g.mirror_stat()["fallbacks"]
        self.assertEqual(self.g.getattr("big", "blob"), blob)
        self.assertEqual(self.g.mirror_stat()["fallbacks"], before + 1)


class BrokenFileTest(unittest.TestCase):
    """The reader on damaged copies of a real mirror: an answer, or a
    status that sends the caller to the socket; nothing else."""

    def test_damage(self):
        d = Daemon()
        try:
            g = gtd.Gtd(d.sock)
            for i in range(6):
                d.start(g, "r%d" % i, {"k": i, "t": "text%d" % i})
            with open(d.sock + ".mirror", "rb") as f:
                good = f.read()
            g.close()
        finally:
            d.stop()
        bad_headers = [(0, b"X"), (8, b"\2"), (24, b"\3\0\0\0"),
                       (16, b"\xff\xff\xff\xff\xff")]
        for off, data in bad_headers:
            buf = bytearray(good)
            buf[off:off + len(data)] = data
            with self.assertRaises(gtd._Proto):
                gtd._View(bytes(buf), len(buf))
        rnd = random.Random(7)
        allowed = (gtd._OK, gtd._NOTFOUND, gtd._RETRY, gtd._REPLACED,
                   gtd._FULL, gtd._PROTO)
        for k in range(1500):
            buf = bytearray(good)
            for _ in range(1 + k % 8):
                buf[rnd.randrange(128, len(buf))] = rnd.randrange(256)
            try:
                v = gtd._View(bytes(buf), len(buf))
            except gtd._Proto:
                continue
            for name in (b"r1", b"r4"):
                rc, fixed, attr = v.get(name, b"t")
                self.assertIn(rc, allowed)
                rc, data = v.copy(name)
                self.assertIn(rc, allowed)
                if rc == gtd._OK:
                    try:
                        gtd._attrs_attempt(v, name)
                    except gtd._Proto:
                        pass
            for i in range(min(v.mask + 1, 32)):
                self.assertIn(v.rows(i)[0], allowed)


class DefaultSocketTest(unittest.TestCase):
    """default_socket() is libgtd's gtd_open(NULL) (build/libgtd.so, by
    ctypes), for root and for another user, in each case of gtctl(1)
    FILES."""

    NOBODY = 65534

    def setUp(self):
        import ctypes
        lib = ctypes.CDLL(os.path.join(os.path.dirname(GTD), "libgtd.so"))
        lib.gtd_open.restype = ctypes.c_void_p
        lib.gtd_open.argtypes = [ctypes.c_char_p]
        lib.gtd_path.restype = ctypes.c_char_p
        lib.gtd_path.argtypes = [ctypes.c_void_p]
        lib.gtd_close.argtypes = [ctypes.c_void_p]
        self.lib = lib
        self.dir = tempfile.mkdtemp(prefix="gtd-py-xdg-")
        os.chmod(self.dir, 0o755)
        self.zone = "py-%d" % os.getpid()
        self.system = "/run/gtd/%s.sock" % self.zone
        self.user = os.path.join(self.dir, "gtd", self.zone + ".sock")
        self.socks = []
        self.saved = dict(os.environ)

    def tearDown(self):
        os.environ.clear()
        os.environ.update(self.saved)
        for s in self.socks:
            s.close()
        for p in (self.system, self.user):
            if os.path.exists(p):
                os.unlink(p)
        shutil.rmtree(self.dir, ignore_errors=True)

    def c_path(self):
        h = self.lib.gtd_open(None)
        path = self.lib.gtd_path(h).decode()
        self.lib.gtd_close(h)
        return path

    def both(self, env, uid=0):
        """(python's, libgtd's) default with env, as uid (forked)."""
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                os.environ.clear()
                os.environ.update(env)
                if uid != 0:
                    os.setresgid(uid, uid, uid)
                    os.setresuid(uid, uid, uid)
                out = json.dumps([gtd.default_socket(), self.c_path()])
                os.write(w, out.encode())
            finally:
                os._exit(0)
        os.close(w)
        with os.fdopen(r) as f:
            out = f.read()
        os.waitpid(pid, 0)
        return tuple(json.loads(out))

    def check(self, env, want, uid=0):
        self.assertEqual(self.both(env, uid), (want, want), env)

    def listen(self, path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        s = socket.socket(socket.AF_UNIX)
        s.bind(path)
        s.listen(1)
        self.socks.append(s)

    def test_root(self):
        self.check({}, "/run/gtd/default.sock")
        self.check({"GTD_ZONE": "blue"}, "/run/gtd/blue.sock")
        self.check({"GTD_ZONE": "blue", "GTD_SOCKET": "/x.sock"}, "/x.sock")
        self.check({"XDG_RUNTIME_DIR": self.dir}, "/run/gtd/default.sock")

    def test_user(self):
        n = self.NOBODY
        env = {"GTD_ZONE": self.zone, "XDG_RUNTIME_DIR": self.dir}
        self.check(env, self.user, n)
        self.check({"GTD_ZONE": self.zone}, self.system, n)
        self.check({"GTD_ZONE": self.zone, "XDG_RUNTIME_DIR": "rel"},
                   self.system, n)
        self.check({"XDG_RUNTIME_DIR": self.dir},
                   os.path.join(self.dir, "gtd", "default.sock"), n)
        self.listen(self.system)
        self.check(env, self.system, n)
        self.listen(self.user)
        self.check(env, self.user, n)


if __name__ == "__main__":
    unittest.main(verbosity=2)
