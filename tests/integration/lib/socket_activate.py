#!/usr/bin/env python3
"""A service manager's socket activation, for the tests (docs/DEPLOY.md,
"Restarts and upgrades"): holds one listening TCP socket and starts a
command on it as systemd's chaton.socket does, the socket as descriptor 3 with
LISTEN_FDS=1 and LISTEN_PID set to the command's process id. The socket stays
open while the command is stopped and started again.

    socket_activate.py HOST PORT COMMAND [ARGS...]

Prints `listening HOST PORT` (the port it got when PORT is 0), then reads one
command per line on standard input and answers each on standard output:
    start   starts COMMAND on the socket         -> `started PID`
    stop    SIGTERM to it, waits for its end     -> `stopped STATUS`
    queued  connections waiting to be accepted   -> `queued N`
End of input stops the command, if running, and exits. The command's
standard output and error go to this program's standard error.
"""
import os
import signal
import socket
import struct
import sys

LISTEN_FD = 3
BACKLOG = 128


def main():
    if len(sys.argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    host, port, command = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    sock = socket.create_server((host, port), backlog=BACKLOG)
    print("listening", host, sock.getsockname()[1], flush=True)
    child = None

    def stop():
        nonlocal child
        if child is None:
            return None
        os.kill(child, signal.SIGTERM)
        _, status = os.waitpid(child, 0)
        child = None
        return os.waitstatus_to_exitcode(status)

    for line in sys.stdin:
        what = line.strip()
        if what == "start" and child is None:
            pid = os.fork()
            if pid == 0:
                os.dup2(sys.stderr.fileno(), 1)
                if sock.fileno() == LISTEN_FD:
                    os.set_inheritable(LISTEN_FD, True)  # dup2 onto itself would leave it close-on-exec
                else:
                    os.dup2(sock.fileno(), LISTEN_FD, inheritable=True)
                env = dict(os.environ, LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
                os.execvpe(command[0], command, env)
            child = pid
            print("started", pid, flush=True)
        elif what == "stop":
            print("stopped", stop(), flush=True)
        elif what == "queued":
            # On a listening socket, Linux's tcp_info.tcpi_unacked is the
            # length of its accept queue: at byte 24, after 8 bytes of small
            # fields and four 32-bit ones (rto, ato, snd_mss, rcv_mss).
            info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
            print("queued", struct.unpack_from("I", info, 24)[0], flush=True)
        else:
            print("error: say start, stop or queued", flush=True)
    stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
