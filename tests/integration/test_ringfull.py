#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Exception policy for a full worker ring, live (software distribution):
apiguard with two workers behind the I/O lcore, rings of 64 entries, a
capture replayed with infinite_rx as fast as net_pcap reads it. With
`exception-policy: pass` the packets a full ring refuses are forwarded
uninspected (io_bypassed); after a configuration reload to `drop` they are
dropped (io_dropped) and none bypass. Nothing crashes, the REST API keeps
answering.

usage: test_ringfull.py --apiguard PATH --gen PATH
Prints one line per check and "N passed, N failed".
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PORT = 18700 + os.getpid() % 200
results = []


BURST = 32  # dataplane.burst (default)


def check(cond, what):
    results.append(bool(cond))
    print('%s %s' % ('ok  ' if cond else 'FAIL', what), flush=True)
    return cond


def req(method, path):
    c = http.client.HTTPConnection('127.0.0.1', PORT, timeout=60)
    c.request(method, path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, json.loads(body) if body else None


def config(policy):
    return ('dataplane:\n  workers: 2\n  distribution: software\n  ring-size: 64\n'
            '  mbufs: 65535\n  exception-policy: %s\n  ports:\n'
            '    - {name: net_pcap0, peer: net_null0}\n    - {name: net_null0, peer: net_pcap0}\n'
            'outputs: {console: false}\nrest: {listen: "127.0.0.1:%d"}\n' % (policy, PORT))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--apiguard', required=True)
    ap.add_argument('--gen', required=True)
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix='apiguard_ringfull_')
    pcap = os.path.join(d, 'mix.pcap')
    subprocess.run([a.gen, '-o', pcap, '--flows', '400', '--seed', '9'], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cfg = os.path.join(d, 'apiguard.yaml')
    with open(cfg, 'w') as f:
        f.write(config('pass'))
    prefix = 'ringfull_%d' % os.getpid()
    cpus = '1' if os.cpu_count() > 1 else '0'
    cmd = [a.apiguard, '--no-huge', '-m', '1024', '--no-pci', '--file-prefix', prefix,
           '--lcores', '0@0,1@%s,2@0,3@%s' % (cpus, cpus),
           '--vdev=net_pcap0,rx_pcap=%s,infinite_rx=1' % pcap, '--vdev=net_null0,no-rx=1',
           '--log-level=*:error', '--', '-c', cfg, '-l', d]
    log = open(os.path.join(d, 'apiguard.out'), 'w')
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        t0 = time.time()
        ready = False
        while time.time() - t0 < 120 and p.poll() is None and not ready:
            try:
                ready = req('GET', '/readyz')[0] == 200
            except OSError:
                time.sleep(0.2)
        if not check(ready, 'apiguard ready (2 workers, software distribution)'):
            return finish(d, p, prefix)
        time.sleep(6)
        io1 = req('GET', '/api/v1/stats')[1].get('io', {})
        check(io1.get('io_ring_full', 0) > 0,
              'rings of 64 overflow: io_ring_full %d' % io1.get('io_ring_full', 0))
        check(io1.get('io_bypassed', 0) > 0 and io1.get('io_dropped', 0) == 0,
              'pass: refused packets forwarded uninspected (io_bypassed %d, io_dropped %d)'
              % (io1.get('io_bypassed', 0), io1.get('io_dropped', 0)))
        with open(cfg, 'w') as f:
            f.write(config('drop'))
        st, j = req('POST', '/api/v1/config/reload')
        check(st == 200 and 'dataplane.exception-policy' in j.get('applied', []),
              'reload to exception-policy drop: %s %s' % (st, j))
        time.sleep(1)
        io2 = req('GET', '/api/v1/stats')[1].get('io', {})
        time.sleep(5)
        io3 = req('GET', '/api/v1/stats')[1].get('io', {})
        full = io3.get('io_ring_full', 0) - io2.get('io_ring_full', 0)
        dropped = io3.get('io_dropped', 0) - io2.get('io_dropped', 0)
        bypassed = io3.get('io_bypassed', 0) - io2.get('io_bypassed', 0)
        # The I/O lcore adds to io_ring_full and then to io_dropped, and a
        # stats read can fall between the two: each snapshot may lag by up
        # to one burst, so the deltas may differ by up to two bursts.
        check(full > 0 and abs(dropped - full) <= 2 * BURST and bypassed == 0,
              'drop: refused packets dropped (ring_full +%d, dropped +%d, bypassed +%d)'
              % (full, dropped, bypassed))
        check(p.poll() is None, 'still running')
    finally:
        pass
    return finish(d, p, prefix)


def finish(d, p, prefix):
    if p.poll() is None:
        p.send_signal(signal.SIGINT)
        try:
            rc = p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = -1
        check(rc == 0, 'clean exit (%s)' % rc)
    shutil.rmtree('/var/run/dpdk/' + prefix, ignore_errors=True)
    n = sum(results)
    print('%d passed, %d failed' % (n, len(results) - n))
    if n == len(results):
        shutil.rmtree(d, ignore_errors=True)
    else:
        print('kept', d)
    return 0 if n == len(results) else 1


if __name__ == '__main__':
    sys.exit(main())
