# SPDX-License-Identifier: MIT
"""gtd: a client for the gtd process supervisor, standard library only.

Reads (find, info, getattr, attrs, children) come from the shared-memory
mirror gtd publishes next to its socket (SOCKET.mirror, gtd-protocol(7)
section 9.4), without a system call and without waiting for gtd; when the
mirror cannot answer (there is none, it may not be read, it is over its
size cap, or the CPU is not one whose loads the interpreter keeps in
order) they ask the socket and give the same answer.  Everything else
goes through the socket: call() sends one request and returns its reply,
send() and recv() pipeline many.  The mirror is read as libgtd(3) reads
it: every offset and length is checked against the mapping, a bucket
whose seqlock moved is read again, a replaced file is re-opened, a broken
one is left for the socket.

    with gtd.Gtd() as g:                  # $GTD_SOCKET or the default
        g.call({"op": "start_child", "name": "web", "cmd": ["sleep", "9"]})
        print(g.find("web").pid, g.getattr("web", "status"))

A Gtd object is not thread-safe: give each thread its own.
"""

import errno
import json
import mmap
import os
import platform
import select
import socket
import stat
import struct
import time

__all__ = ["Gtd", "Child", "Error", "NotFound", "NotRunning", "NoAttr",
           "GtdError", "default_socket"]

# The layout (include/gt/shmlayout.h), native byte order.
_MAGIC = b"GTDMIRR\0"
_VERSION = 1
_HEADER_SIZE = 128
_BLOCK_MIN = 64
_MAX_BYTES = 1 << 30
_NAME_MAX = 1024
_KEY_MAX = 1024
_SUFFIX = ".mirror"
_F_REPLACED, _F_CLOSED, _F_FULL = 0x1, 0x2, 0x4
_R_PARTIAL = 0x1
_R_REMOTE = 0x2  # another cluster node's row: not listed
_T_INT, _T_REAL, _T_TEXT, _T_JSON = 1, 2, 3, 4

_HDR = struct.Struct("=8sIIQIIIIIIQ")
_REC = struct.Struct("=IIIIiIIHH16s")
_ATTR = struct.Struct("=BBHI")
_U32 = struct.Struct("=I")
_I64 = struct.Struct("=q")
_F64 = struct.Struct("=d")
_FLAGS_OFF = 40

_OK, _NOTFOUND, _RETRY, _REPLACED, _FULL, _PROTO = range(6)
_TRIES = 20000
_REOPEN_S = 1.0
_READ_TIMEOUT = 10.0

# Loads must not pass each other: x86 keeps them in order.  Elsewhere the
# mirror is used only when asked for (GTD_PY_MIRROR=1).
_ORDERED = platform.machine().lower() in ("x86_64", "amd64", "i386",
                                          "i686", "x86")


class Error(Exception):
    """Base of the errors this module raises (OSError aside)."""


class NotFound(Error):
    """No child by that name."""


class NotRunning(Error):
    """The row exists in another state; .child is it."""

    def __init__(self, message, child=None):
        Error.__init__(self, message)
        self.child = child


class NoAttr(Error):
    """The child has no attr by that key."""


class GtdError(Error):
    """gtd refused a request: .code, .message, .reply."""

    def __init__(self, reply):
        self.reply = reply
        self.code = reply.get("error", "")
        self.message = reply.get("message", "")
        Error.__init__(self, "%s: %s" % (self.code, self.message))


class _Proto(Exception):
    """A malformed mirror (never leaves the module)."""


class Child(object):
    """A row: name, pid (0: none), state, restart_count."""

    __slots__ = ("name", "pid", "state", "restart_count")

    def __init__(self, name, pid, state, restart_count):
        self.name = name
        self.pid = pid
        self.state = state
        self.restart_count = restart_count

    def __eq__(self, other):
        return (isinstance(other, Child) and
                (self.name, self.pid, self.state, self.restart_count) ==
                (other.name, other.pid, other.state, other.restart_count))

    def __repr__(self):
        return "Child(%r, pid=%d, state=%r, restart_count=%d)" % (
            self.name, self.pid, self.state, self.restart_count)


def _is_socket(path):
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False


def default_socket():
    """The socket libgtd's gtd_open(NULL) uses: $GTD_SOCKET, else the
    default socket of the zone $GTD_ZONE (unset: "default") as gtctl
    finds it: /run/gtd/ZONE.sock for root and for a user whose
    XDG_RUNTIME_DIR is not an absolute path, else
    $XDG_RUNTIME_DIR/gtd/ZONE.sock unless only the system's
    /run/gtd/ZONE.sock is a socket."""
    path = os.environ.get("GTD_SOCKET")
    if path:
        return path
    zone = os.environ.get("GTD_ZONE") or "default"
    system = "/run/gtd/%s.sock" % zone
    xdg = os.environ.get("XDG_RUNTIME_DIR") or ""
    if os.geteuid() == 0 or not xdg.startswith("/"):
        return system
    user = "%s/gtd/%s.sock" % (xdg, zone)
    if not _is_socket(user) and _is_socket(system):
        return system
    return user


def _hash(seed, data):
    h = (2166136261 ^ seed) & 0xffffffff
    for b in data:
        h = ((h ^ b) * 16777619) & 0xffffffff
    return h


def _align(n, a):
    return (n + a - 1) & ~(a - 1)


def _index_off(name_len):
    return _align(_REC.size + name_len + 1, 4)


def _value_off(klen):
    return _align(_ATTR.size + klen + 1, 8)


def _keycmp(a, b):
    return (a > b) - (a < b)     # bytes compare as strcmp on keys


class _View(object):
    """One mapped file, its header checked.  Each method is one attempt
    under a bucket's seqlock, like src/lib/mirror.c: it returns a status, and
    data only with _OK."""

    def __init__(self, buf, size):
        """buf holds the file (size bytes), or only its header when
        checking it before mapping."""
        if size < _HEADER_SIZE or len(buf) < _HEADER_SIZE:
            raise _Proto("short")
        (magic, version, hsize, fsize, nb, boff, heap, seed, _flags, pid,
         gen) = _HDR.unpack_from(buf, 0)
        if (magic != _MAGIC or version != _VERSION or
                hsize != _HEADER_SIZE or fsize < _HEADER_SIZE or
                fsize > size or fsize > _MAX_BYTES):
            raise _Proto("header")
        if (nb == 0 or nb & (nb - 1) or boff < _HEADER_SIZE or boff % 8 or
                heap % 8 or boff + 8 * nb > heap or heap > fsize):
            raise _Proto("geometry")
        self.buf = buf
        self.size = fsize
        self.mask = nb - 1
        self.boff = boff
        self.heap = heap
        self.seed = seed
        self.pid = pid
        self.generation = gen
        self.maxwalk = (fsize - heap) // _BLOCK_MIN + 1

    def flags(self):
        return _U32.unpack_from(self.buf, _FLAGS_OFF)[0]

    def _end(self, seq, s1, bad, rc):
        s2 = _U32.unpack_from(self.buf, seq)[0]
        flags = self.flags()
        if flags & _F_REPLACED:
            return _REPLACED
        if flags & _F_FULL:
            return _FULL
        if s1 & 1 or s1 != s2:
            return _RETRY
        return _PROTO if bad else rc

    def _rec(self, off, lo, buf=None, size=None):
        """The fixed fields of the record at off, checked, or None."""
        buf = self.buf if buf is None else buf
        size = self.size if size is None else size
        if off < lo or off % 8 or off + _REC.size > size:
            return None
        (nxt, h, rsize, flags, pid, rc, nattrs, nlen, _r,
         state) = _REC.unpack_from(buf, off)
        if (nlen == 0 or nlen > _NAME_MAX or rsize > size - off or
                rsize < _index_off(nlen) or
                nattrs > (rsize - _index_off(nlen)) // 4):
            return None
        return (nxt, h, rsize, flags, pid, rc, nattrs, nlen,
                state.split(b"\0", 1)[0])

    def _walk(self, h, name, head):
        off, n = head, 0
        while off:
            r = self._rec(off, self.heap) if n < self.maxwalk else None
            if r is None:
                return -1, None
            if (r[1] == h and r[7] == len(name) and
                    self.buf[off + _REC.size:off + _REC.size + r[7]] ==
                    name):
                return off, r
            off, n = r[0], n + 1
        return 0, None

    def _bucket(self, h):
        return self.boff + 8 * (h & self.mask)

    def get(self, name, key=None):
        """(status, (pid, state, restart_count, flags, nattrs),
        attr or None); attr is (type, value bytes or number)."""
        h = _hash(self.seed, name)
        seq = self._bucket(h)
        s1 = _U32.unpack_from(self.buf, seq)[0]
        head = _U32.unpack_from(self.buf, seq + 4)[0]
        off, r = self._walk(h, name, head)
        fixed = attr = None
        bad = off == -1
        if r is not None:
            fixed = (r[4], r[8], r[5], r[3], r[6])
            if key is not None and not r[3] & _R_PARTIAL:
                try:
                    attr = _find_attr(self.buf, off, r, key)
                except _Proto:
                    bad = True
        rc = self._end(seq, s1, bad, _OK if r is not None else _NOTFOUND)
        return rc, fixed, attr

    def copy(self, name):
        """(status, the record's bytes)."""
        h = _hash(self.seed, name)
        seq = self._bucket(h)
        s1 = _U32.unpack_from(self.buf, seq)[0]
        head = _U32.unpack_from(self.buf, seq + 4)[0]
        off, r = self._walk(h, name, head)
        data = bytes(self.buf[off:off + r[2]]) if r is not None else None
        rc = self._end(seq, s1, off == -1, _OK if r is not None else
                       _NOTFOUND)
        return rc, data

    def rows(self, i):
        """(status, [(name, pid, state, restart_count)]) of bucket i."""
        seq = self.boff + 8 * i
        s1 = _U32.unpack_from(self.buf, seq)[0]
        off = _U32.unpack_from(self.buf, seq + 4)[0]
        out, n, bad = [], 0, False
        while off:
            r = self._rec(off, self.heap) if n < self.maxwalk else None
            if r is None:
                bad = True
                break
            name = bytes(self.buf[off + _REC.size:off + _REC.size + r[7]])
            if not r[3] & _R_REMOTE:
                out.append((name, r[4], r[8], r[5]))
            off, n = r[0], n + 1
        return self._end(seq, s1, bad, _OK), out


def _entry(buf, off, r, i):
    """Attr i of the record at off: (key, type, value)."""
    rsize, nattrs, nlen = r[2], r[6], r[7]
    if i >= nattrs:
        raise _Proto("index")
    base = off + _index_off(nlen)
    e = _U32.unpack_from(buf, base + 4 * i)[0]
    if (e % 8 or e < _index_off(nlen) + 4 * nattrs or e > rsize or
            rsize - e < _ATTR.size):
        raise _Proto("entry")
    t, _r, klen, vlen = _ATTR.unpack_from(buf, off + e)
    if klen == 0 or klen > _KEY_MAX or t < _T_INT or t > _T_JSON:
        raise _Proto("attr")
    v = e + _value_off(klen)
    if v > rsize:
        raise _Proto("value")
    key = bytes(buf[off + e + _ATTR.size:off + e + _ATTR.size + klen])
    if t in (_T_INT, _T_REAL):
        if vlen != 8 or rsize - v < 8:
            raise _Proto("number")
        num = (_I64 if t == _T_INT else _F64).unpack_from(buf, off + v)[0]
        return key, t, num
    if vlen >= rsize - v:
        raise _Proto("text")
    return key, t, bytes(buf[off + v:off + v + vlen])


def _find_attr(buf, off, r, key):
    lo, hi = 0, r[6]
    while lo < hi:
        mid = (lo + hi) // 2
        k, t, v = _entry(buf, off, r, mid)
        c = _keycmp(k, key)
        if c == 0:
            return t, v
        if c < 0:
            lo = mid + 1
        else:
            hi = mid
    return None


def _value(t, v):
    if t in (_T_INT, _T_REAL):
        return v
    text = v.decode("utf-8", "replace")
    if t == _T_TEXT:
        return text
    try:
        return json.loads(text)
    except ValueError:
        raise _Proto("json")


class _Conn(object):
    """One connection: requests queued and written as the socket takes
    them, replies read as lines; a wait for a reply also writes, so a
    long pipeline never deadlocks against gtd's output cap."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.connect(path)
        except OSError:
            self.sock.close()
            raise
        self.sock.setblocking(False)
        self.inbuf = bytearray()
        self.out = bytearray()
        self.pending = 0

    def close(self):
        self.sock.close()

    def _flush(self):
        while self.out:
            try:
                n = self.sock.send(self.out)
            except (BlockingIOError, InterruptedError):
                return
            del self.out[:n]

    def send(self, line):
        self.out += line
        self.out += b"\n"
        self.pending += 1
        self._flush()

    def recv(self, timeout):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            nl = self.inbuf.find(b"\n")
            if nl >= 0:
                line = bytes(self.inbuf[:nl])
                del self.inbuf[:nl + 1]
                self.pending = max(0, self.pending - 1)
                return line
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise socket.timeout("no reply from gtd")
            w = [self.sock] if self.out else []
            r, w, _ = select.select([self.sock], w, [], left)
            if w:
                self._flush()
            if r:
                try:
                    data = self.sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                if not data:
                    raise ConnectionResetError(errno.ECONNRESET,
                                               "gtd closed the connection")
                self.inbuf += data


class Gtd(object):
    """A handle on the gtd at path (default: default_socket()).
    timeout: seconds a socket call may wait (None: forever).  mirror:
    False reads through the socket only."""

    def __init__(self, path=None, timeout=None, mirror=None):
        self.path = path or default_socket()
        self.mirror_path = self.path + _SUFFIX
        self.timeout = timeout
        if mirror is None:
            mirror = _ORDERED or os.environ.get("GTD_PY_MIRROR") == "1"
        self.use_mirror = mirror
        self._map = None
        self._view = None
        self._next_open = 0.0
        self._rd = None
        self._user = None
        self.stats = {"remaps": 0, "fallbacks": 0, "retries": 0}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._unmap()
        for c in (self._rd, self._user):
            if c is not None:
                c.close()
        self._rd = self._user = None

    # -- the mirror --

    def _unmap(self):
        self._view = None
        if self._map is not None:
            self._map.close()
            self._map = None

    def _remap(self):
        for _ in range(4):        # replaced again meanwhile: open anew
            if self._map_once():
                return

    def _map_once(self):
        """Map the path's file: False when it was replaced meanwhile."""
        self._unmap()
        try:
            fd = os.open(self.mirror_path, os.O_RDONLY | os.O_CLOEXEC |
                         os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            self._next_open = time.monotonic() + _REOPEN_S
            return True
        try:
            st = os.fstat(fd)
            if (not stat.S_ISREG(st.st_mode) or
                    st.st_size < _HEADER_SIZE or st.st_size > _MAX_BYTES):
                raise _Proto("not a mirror")
            hdr = os.pread(fd, _HEADER_SIZE, 0)
            view = _View(hdr, st.st_size)
            if _U32.unpack_from(hdr, _FLAGS_OFF)[0] & _F_REPLACED:
                return False
            if view.pid:
                try:
                    os.kill(view.pid, 0)
                except ProcessLookupError:
                    raise _Proto("its gtd is gone")
                except PermissionError:
                    pass
            m = mmap.mmap(fd, st.st_size, mmap.MAP_SHARED, mmap.PROT_READ)
            try:
                if len(m) != st.st_size:
                    raise _Proto("mapped short")
                self._view = _View(m, st.st_size)
            except _Proto:
                m.close()
                raise
            self._map = m
            self._next_open = 0.0
            self.stats["remaps"] += 1
        except (OSError, _Proto):
            self._next_open = time.monotonic() + _REOPEN_S
        finally:
            os.close(fd)
        return True

    def _mirror(self, attempt):
        """attempt(view) -> (status, data); (status, data) with _OK or
        _NOTFOUND, or (None, None): ask the socket."""
        if not self.use_mirror:
            return None, None
        for n in range(_TRIES):
            if self._view is None:
                if time.monotonic() < self._next_open:
                    return None, None
                self._remap()
                if self._view is None:
                    return None, None
            try:
                rc, data = attempt(self._view)
            except (_Proto, struct.error, IndexError, ValueError):
                rc, data = _PROTO, None
            if rc in (_OK, _NOTFOUND):
                return rc, data
            if rc == _REPLACED:
                self._remap()
            elif rc == _RETRY:
                self.stats["retries"] += 1
                if n >= 64:
                    time.sleep(0)
            elif rc == _PROTO:
                self._unmap()
                self._next_open = time.monotonic() + _REOPEN_S
                return None, None
            else:
                return None, None
        return None, None

    def mirror_stat(self):
        """Where reads come from: mapped, generation, size, and the
        counters remaps, fallbacks, retries."""
        v = self._view
        s = dict(self.stats)
        s.update(mapped=v is not None, generation=v.generation if v else 0,
                 size=v.size if v else 0)
        return s

    # -- the socket --

    def _ask(self, req):
        """One read the mirror could not do, on the read connection."""
        self.stats["fallbacks"] += 1
        t = _READ_TIMEOUT if self.timeout is None else min(self.timeout,
                                                           _READ_TIMEOUT)
        try:
            if self._rd is None:
                self._rd = _Conn(self.path)
            self._rd.send(json.dumps(req).encode())
            return json.loads(self._rd.recv(t))
        except (OSError, ValueError):
            if self._rd is not None:
                self._rd.close()
                self._rd = None
            raise

    @staticmethod
    def _line(req):
        line = req if isinstance(req, (bytes, str)) else json.dumps(req)
        if isinstance(line, str):
            line = line.encode()
        if line.endswith(b"\n"):
            line = line[:-1]
        if not line or b"\n" in line:
            raise ValueError("a request is one line of JSON")
        return line

    def send(self, req):
        """Queue a request (a dict, or a JSON text): its reply comes from
        a later recv(), replies in request order."""
        line = self._line(req)
        if self._user is None:
            self._user = _Conn(self.path)
        try:
            self._user.send(line)
        except OSError:
            self._user.close()
            self._user = None
            raise

    def recv(self):
        """The next reply, as a dict, whatever its "ok" says."""
        if self._user is None:
            raise Error("no request was sent")
        try:
            return json.loads(self._user.recv(self.timeout))
        except (OSError, ValueError):
            self._user.close()
            self._user = None
            raise

    def call(self, req):
        """Send one request and return its reply (a dict)."""
        if self._user is not None and self._user.pending:
            raise Error("%d replies are unread" % self._user.pending)
        self.send(req)
        return self.recv()

    def pipeline(self, reqs):
        """Send every request, then return their replies in order."""
        reqs = list(reqs)
        for r in reqs:
            self.send(r)
        return [self.recv() for _ in reqs]

    # -- reads --

    @staticmethod
    def _name(name, what="name"):
        b = name.encode() if isinstance(name, str) else bytes(name)
        if not b or len(b) > (_NAME_MAX if what == "name" else _KEY_MAX):
            raise ValueError("%ss are 1 to %d bytes" % (what, _NAME_MAX))
        return b

    def info(self, name):
        """The row of name in any state (a Child); NotFound."""
        b = self._name(name)
        rc, data = self._mirror(lambda v: v.get(b)[:2])
        if rc == _OK:
            return Child(name, data[0], data[1].decode(), data[2])
        if rc == _NOTFOUND:
            raise NotFound("no child %s" % name)
        r = self._ask({"op": "info", "name": name})
        if not r.get("ok"):
            self._refused(r)
        return Child(name, r.get("pid") or 0, r.get("state", ""),
                     r.get("restart_count", 0))

    def find(self, name):
        """The row of a running child; NotRunning (with .child) for a
        row in another state, NotFound for none."""
        c = self.info(name)
        if c.state != "running":
            raise NotRunning("%s is %s" % (name, c.state), c)
        return c

    @staticmethod
    def _refused(r, row_known=False):
        code = r.get("error")
        if code == "not_found":
            if row_known or "state" in r:
                raise NoAttr(r.get("message", ""))
            raise NotFound(r.get("message", ""))
        if code == "not_running":
            raise NotRunning(r.get("message", ""))
        raise GtdError(r)

    def getattr(self, name, key):
        """One attr: an int, a float, a str, or (arrays, objects,
        booleans, null) the decoded JSON.  NotFound, NotRunning (stopped
        or restarting: no attrs), NoAttr."""
        b, k = self._name(name), self._name(key, "key")
        rc, data = self._mirror(lambda v: _getattr_attempt(v, b, k))
        if rc == _NOTFOUND:
            raise NotFound("no child %s" % name)
        if rc == _OK and data[0] in ("stopped", "restarting"):
            raise NotRunning("%s is %s" % (name, data[0]))
        if rc == _OK and not data[1] & _R_PARTIAL:
            if data[2] is None:
                raise NoAttr("%s has no attr %s" % (name, key))
            return data[2]
        r = self._ask({"op": "getattr", "name": name, "key": key})
        if not r.get("ok"):
            self._refused(r)
        return r.get("value")

    def attrs(self, name):
        """Every attr of name, as a dict in key order, all as of one
        moment.  Errors as getattr()."""
        b = self._name(name)
        rc, data = self._mirror(lambda v: _attrs_attempt(v, b))
        if rc == _NOTFOUND:
            raise NotFound("no child %s" % name)
        if rc == _OK and data[0] in ("stopped", "restarting"):
            raise NotRunning("%s is %s" % (name, data[0]))
        if rc == _OK and data[1] is not None:
            return data[1]
        r = self._ask({"op": "info", "name": name})
        if not r.get("ok"):
            self._refused(r)
        if r.get("state") in ("stopped", "restarting"):
            raise NotRunning("%s is %s" % (name, r.get("state")))
        return r.get("attrs", {})

    def children(self):
        """Every row (a list of Child, in no particular order), each as
        it was at one moment; a row that exists throughout is listed
        once."""
        rc, rows = self._mirror(_rows_attempt)
        if rc == _OK:
            return [Child(n.decode("utf-8", "replace"), p, s.decode(), c)
                    for n, p, s, c in rows]
        r = self._ask({"op": "which_children"})
        if not r.get("ok"):
            self._refused(r)
        return [Child(x["name"], x.get("pid") or 0, x.get("state", ""),
                      x.get("restart_count", 0))
                for x in r.get("children", [])]


def _getattr_attempt(v, name, key):
    rc, fixed, attr = v.get(name, key)
    if rc != _OK:
        return rc, None
    value = None if attr is None else _value(attr[0], attr[1])
    return rc, (fixed[1].decode("utf-8", "replace"), fixed[3], value)


def _attrs_attempt(v, name):
    rc, data = v.copy(name)
    if rc != _OK:
        return rc, None
    r = v._rec(0, 0, data, len(data))
    if r is None or r[2] != len(data):
        raise _Proto("record")
    state = r[8].decode("utf-8", "replace")
    if r[3] & _R_PARTIAL:
        return rc, (state, None)
    out = {}
    for i in range(r[6]):
        k, t, val = _entry(data, 0, r, i)
        out[k.decode("utf-8", "replace")] = _value(t, val)
    return rc, (state, out)


def _rows_attempt(v):
    """Every bucket, each retried on its own; one file throughout."""
    out = []
    for i in range(v.mask + 1):
        for n in range(_TRIES):
            rc, rows = v.rows(i)
            if rc != _RETRY:
                break
            if n >= 64:
                time.sleep(0)
        if rc != _OK:
            return rc, None
        out.extend(rows)
    return _OK, out
