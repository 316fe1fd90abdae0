# Python's pty and termios modules: pty.fork, os.openpty, tty.setraw, ttyname, winsize.
import fcntl
import os
import pty
import struct
import sys
import termios
import tty

pid, fd = pty.fork()
if pid == 0:
    print("child:", os.isatty(0), os.ttyname(0).startswith("/dev/pts/"), os.getsid(0) == os.getpid())
    sys.stdout.flush()
    line = sys.stdin.readline()
    print("child read:", line.strip())
    sys.stdout.flush()
    os._exit(3)
os.write(fd, b"typed line\n")
out = b""
while True:
    try:
        d = os.read(fd, 1024)
    except OSError as e:
        print("master read ends with errno", e.errno)
        break
    if not d:
        break
    out += d
print(sorted(out.split(b"\r\n")), os.waitpid(pid, 0)[1] >> 8)

m, s = os.openpty()
os.write(m, b"abc\x7fd\n")
print(os.read(s, 100), os.ttyname(s).startswith("/dev/pts/"))
tty.setraw(s)
os.write(m, b"\x03x\r")
print(os.read(s, 100))
fcntl.ioctl(m, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
print(struct.unpack("HHHH", fcntl.ioctl(s, termios.TIOCGWINSZ, b"\0" * 8))[:2])
print(termios.tcgetattr(s)[3] & termios.ICANON)
