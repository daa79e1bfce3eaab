#!/usr/bin/env python3
"""Groups a `perf script --no-inline` dump of the server into cost buckets.

Usage: scripts/perf_buckets.py SCRIPT.txt [SCRIPT.txt ...]
(see docs/BENCHMARKS.md, "Where a delivery's CPU goes (profile)").

SELF: each sample is charged to one bucket, from its leaf frame: kernel
samples by the system call on their stack; malloc/free, memcpy and mutex
leaves to those buckets; any other leaf to the first frame, walking towards
the root, that matches a rule in USER. INCLUSIVE: share of samples with a
matching frame anywhere on their stack (buckets overlap).
"""
import collections
import re
import sys


def samples(path):
    cur = None
    for line in open(path, errors='replace'):
        if not line.strip():
            if cur:
                yield cur
            cur = None
            continue
        if not line.startswith('\t'):
            parts = line.split()
            cur = {'tid': parts[1], 'frames': []}
            continue
        m = re.match(r'\s*([0-9a-f]+)\s+(.*)\s+\((.*)\)\s*$', line)
        if m and cur is not None:
            cur['frames'].append((re.sub(r'\+0x[0-9a-f]+$', '', m.group(2)), m.group(3)))
    if cur:
        yield cur
def strip(sym):
    out=[];depth=0;pd=0
    i=0
    # remove template args <...> and parameter lists (...)
    for ch in sym:
        if ch=='<': depth+=1; continue
        if ch=='>' and depth>0: depth-=1; continue
        if depth: continue
        if ch=='(' : pd+=1; continue
        if ch==')' and pd>0: pd-=1; continue
        if pd: continue
        out.append(ch)
    return ''.join(out)

KERNEL_SYS=[
 ('kernel: store and log files', r'ext4_|vfs_fsync|jbd2|blkdev|__x64_sys_rename|__x64_sys_openat|__x64_sys_fdatasync'),
 ('kernel: send (TCP, incl. loopback delivery to the reader)', r'tcp_sendmsg|sock_sendmsg|__sys_sendmsg|sock_write_iter|__x64_sys_sendmsg|__x64_sys_sendto|__x64_sys_writev'),
 ('kernel: recv', r'tcp_recvmsg|sock_recvmsg|__sys_recvmsg|__x64_sys_recvmsg|__x64_sys_recvfrom|sock_read_iter'),
 ('kernel: epoll_wait (incl. sleeping/waking)', r'do_epoll_wait|__x64_sys_epoll_wait|__x64_sys_epoll_pwait'),
 ('kernel: epoll_ctl', r'do_epoll_ctl|__x64_sys_epoll_ctl'),
 ('kernel: futex (lock/condvar wake-ups)', r'__x64_sys_futex|futex_'),
 ('kernel: accept/close', r'__x64_sys_accept4|__x64_sys_close|__fput'),
 ('kernel: timerfd', r'timerfd'),
 ('kernel: syscall exit / irq enable, syscall not identifiable (VM)', r'do_syscall_64'),
]
USER=[
 ('access log', r'chaton::LogFile|Exchange::log'),
 ('timers (Asio timer queue, per-op stream timeouts)', r'timer_queue|expires_after|expires_at|expires_never|timeout_handler|AsioTimer|make_timer|basic_waitable_timer|deadline_timer|steady_timer|timer_fd'),
 ('strand posts/dispatch', r'strand_executor_service|strand::|io_object_impl'),
 ('any_io_executor type erasure', r'any_executor_base|any_executor::|any_io_executor'),
 ('shared_ptr/weak_ptr refcounts', r'_Sp_counted|__shared_count|__shared_ptr|shared_ptr::|weak_ptr::|__weak_count|enable_shared_from_this'),
 ('std::function wrappers', r'std::_Function_handler|std::function::|_Function_base'),
 ('Beast HTTP parsing (requests)', r'basic_parser|http::parser|read_some_op|http::detail::read_op|parse_target|add_query|chaton::http::params|Params'),
 ('Beast HTTP serialization (responses)', r'serializer|buffers_cat_view|buffers_suffix|buffers_prefix|write_some_op|write_op|write_msg_op|basic_fields::writer|chunk_crlf|buffers_ref|buffer_sequence|buffers_range'),
 ('Beast WebSocket framing', r'websocket'),
 ('response headers (basic_fields, make_response)', r'basic_fields|make_response|http::message|header::'),
 ('room (publish, wake-up, cids, waiters)', r'chaton::Room|CidTable|chaton::Waiter'),
 ('packet/event rendering', r'make_delta_packet|wrap_packet|wrap_json|format_timestamp|append_json|DeltaPacket|render|EventStream::deliver|WsRoom::deliver|deliver$'),
 ('store (commit thread)', r'FileStore|CommitQueue|fileio'),
 ('routing/endpoints', r'Router|EndpointTable|RoomEndpoints'),
 ('Beast basic_stream (transfer_op)', r'basic_stream|transfer_op|async_base'),
 ('Asio reactor/scheduler/handler machinery', r'epoll_reactor|scheduler|reactive_socket|socket_ops|reactive_wait_op|executor_function|thread_info_base|recycling_allocator|handler_alloc|handler_work|executor_op|wait_handler|binder|composed_op|asio::detail|asio::'),
 ('other chaton code', r'chaton::'),
]
MALLOC=r'^(malloc|free|cfree|_int_malloc|_int_free|_int_free_merge_chunk|_int_free_create_chunk|_int_free_maybe_consolidate|unlink_chunk.*|malloc_consolidate|__libc_malloc|__libc_free|tcache.*|operator new|operator delete|_int_realloc|realloc|__libc_calloc|calloc|checked_request2size|sysmalloc|malloc_trim.*)$'
COPY=r'^(__memmove.*|__memcpy.*|memcpy|memmove|__memset.*|memset|__strlen.*|strlen|__strchrnul.*|__memchr.*|__memcmp.*|std::__cxx11::basic_string::_M_.*|std::__cxx11::basic_string::basic_string|std::__cxx11::basic_string::append|std::__cxx11::basic_string::operator\+=)$'
MUTEX=r'^(pthread_mutex_lock.*|__GI___pthread_mutex_unlock.*|pthread_mutex_unlock|__pthread_mutex_.*|__lll_lock.*|pthread_cond.*|__GI___lll.*|std::mutex::.*)$'

def first_user(frames, start=0):
    for sym,dso in frames[start:]:
        s=strip(sym)
        for name,pat in USER:
            if re.search(pat,s): return name, s
    return None, None

INCL=[
 ('kernel: send (TCP + loopback delivery)', r'^(tcp_sendmsg|sock_sendmsg|__sys_sendmsg)$'),
 ('kernel: recv', r'^(tcp_recvmsg|sock_recvmsg)$'),
 ('kernel: epoll_wait', r'^do_epoll_wait$'),
 ('kernel: epoll_ctl', r'^do_epoll_ctl$'),
 ('kernel: futex', r'^__x64_sys_futex$'),
 ('malloc/free', r'^(malloc|cfree|free|_int_malloc|_int_free|operator new|operator delete)$'),
 ('Beast HTTP parser (basic_parser)', r'basic_parser'),
 ('Beast HTTP write op (serializer + its kernel send)', r'http::detail::write_op::operator|http::detail::write_some_op::operator'),
 ('Beast WebSocket stream ops', r'websocket::stream'),
 ('access log (Exchange::log, LogFile)', r'chaton::LogFile|Exchange::log'),
 ('timers', r'timer_queue|expires_after|timeout_handler|AsioTimer|make_timer'),
 ('room (chaton::Room, CidTable)', r'^chaton::Room::|CidTable'),
 ('packet rendering (make_delta_packet)', r'make_delta_packet'),
 ('per-reader envelope (EventStream/WsFeed::deliver)', r'EventStream::deliver|WsFeed::deliver'),
 ('request handling (Router::handle and below)', r'Router::handle'),
 ('LongPoll::on_wake (wake-up to reply)', r'LongPoll::on_wake'),
 ('Exchange::respond (reply dispatch + write)', r'Exchange::respond'),
 ('Exchange::watch_disconnect', r'Exchange::watch_disconnect'),
 ('RoomFeed::pump (stream wake-up to push)', r'RoomFeed::pump'),
 ('WriteQueue::write_next (stream write incl. kernel send)', r'WriteQueue::write_next'),
 ('Room::publish wake-ups (commit thread)', r'Room::publish'),
 ('store commit thread (CommitQueue::run)', r'CommitQueue::run'),
]

def main():
    path=sys.argv[1:]
    selfc=collections.Counter(); incl=collections.Counter(); other=collections.Counter(); alloc_by=collections.Counter(); copy_by=collections.Counter(); mutex_by=collections.Counter(); kuser=collections.Counter()
    n=0
    detail=collections.Counter()
    for p in path:
      for s in samples(p):
        fr=s['frames']
        if not fr: continue
        n+=1
        names=[strip(x[0]) for x in fr]
        seen=set()
        for bname,pat in INCL:
            if any(re.search(pat,x) for x in names): incl[bname]+=1
        leaf,dso=fr[0]; ls=names[0]
        if any(re.search(r'Session::shutdown|Session::close|^__x64_sys_close$|^__x64_sys_shutdown$',x) for x in names):
            selfc['connection teardown after the run (not per delivery)']+=1; continue
        if 'kernel' in dso:
            b=None
            for name,pat in KERNEL_SYS:
                if any(re.search(pat,x) for x in names): b=name;break
            if b is None: b='kernel: interrupts/scheduler (no syscall)'
            # owner of kernel time in user space
            u=next((x for x in names if x.startswith('chaton::')),'?')
            sc=next((x for x in names if x.startswith('__x64_sys_')),'?')
            kuser[(b,u[:60],sc)]+=1
            selfc[b]+=1; continue
        if re.match(MALLOC,ls):
            selfc['malloc/free']+=1
            i=next((j for j,x in enumerate(names) if not re.match(MALLOC,x)),len(names))
            u,su=first_user(fr,i); alloc_by[u or '?']+=1; continue
        if re.match(COPY,ls):
            selfc['memcpy/memmove/string copies']+=1
            u,su=first_user(fr,1); copy_by[u or '?']+=1; continue
        if re.match(MUTEX,ls):
            selfc['mutex lock/unlock']+=1
            u,su=first_user(fr,1); mutex_by[(u,su)]+=1; continue
        u,su=first_user(fr)
        if u is None: u='unattributed ('+dso.split('/')[-1]+')'; other[ls[:100]]+=1
        selfc[u]+=1
        if u in ('Asio reactor/scheduler/handler machinery','any_io_executor type erasure','Beast HTTP serialization (responses)','shared_ptr/weak_ptr refcounts','other chaton code','room (publish, wake-up, cids, waiters)'): detail[(u[:20],ls[:70])]+=1
    print(f"samples {n}")
    print("\nSELF")
    for k,v in selfc.most_common(): print(f"{100*v/n:5.1f}  {k}")
    print("\nINCLUSIVE")
    for k,v in sorted(incl.items(), key=lambda kv:-kv[1]): print(f"{100*v/n:5.1f}  {k}")
    print("\nmalloc/free by caller");
    for k,v in alloc_by.most_common(10): print(f"{100*v/n:5.1f}  {k}")
    print("\ncopies by caller");
    for k,v in copy_by.most_common(8): print(f"{100*v/n:5.1f}  {k}")
    print("\nmutex by caller");
    for k,v in mutex_by.most_common(8): print(f"{100*v/n:5.1f}  {k}")
    print("\nkernel by user owner")
    for k,v in kuser.most_common(12): print(f"{100*v/n:5.1f}  {k}")
    print("\nunattributed leaves")
    for k,v in other.most_common(10): print(f"{100*v/n:5.1f}  {k}")

    print("\ndetail")
    for k,v in detail.most_common(40): print(f"{100*v/n:5.1f}  {k}")


if __name__ == '__main__':
    main()
