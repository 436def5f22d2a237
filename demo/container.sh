#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# What runs inside the demo container (as pid 1 of its pid namespace): a client that asks
# cgdelegated, through /run/host/cgdelegate/socket, for groups and limits, and shows them at work.
set -u
tool=$1
ctl=$2 # cgdelegatectl; it finds /run/host/cgdelegate/socket by itself inside a container
say() { printf '[container] %s\n' "$*"; }

# The runtime sets the leader after starting us; methods that take pids wait for it.
for _ in $(seq 100); do "$ctl" procs / >/dev/null 2>&1 && break; sleep 0.05; done

say "cgdelegatectl create /app"
"$ctl" create /app || exit 1
say "cgdelegatectl set /app MemoryMax=64M TasksMax=5 CPUQuota=20%"
"$ctl" set /app MemoryMax=64M TasksMax=5 CPUQuota=20% || exit 1
say "cgdelegatectl get /app memory.max pids.max cpu.max:"
"$ctl" get /app memory.max pids.max cpu.max | sed 's/^/  /'

mkfifo /run/go
bash -c 'read -r _ < /run/go; exec "$0" forks 10' "$tool" &
worker=$!
"$ctl" move /app "$worker" && say "moved pid $worker into /app; it forks 10 children:"
echo go > /run/go
wait "$worker"
"$ctl" kill /app --signal 9 && say "killed what was left in /app"

"$ctl" create /cpu && "$ctl" set /cpu CPUQuota=20%
bash -c 'read -r _ < /run/go; exec "$0" spin 1000' "$tool" &
spinner=$!
"$ctl" move /cpu "$spinner" && say "moved pid $spinner into /cpu (CPUQuota=20%); it spins for 1 s"
echo go > /run/go
say "cgdelegatectl top --batch --delay 0.5 (/cpu held near its 20%):"
"$ctl" top --batch --delay 0.5 | sed 's/^/  /'
wait "$spinner"
say "cgdelegatectl get /cpu cpu.stat (throttled by its quota):"
"$ctl" get /cpu cpu.stat | sed 's/^/  /'

say "cgdelegatectl tree:"
"$ctl" tree | sed 's/^/  /'
say "asking for MemoryMax=1G on /app (the policy's ceiling is 256M):"
"$ctl" set /app MemoryMax=1G 2>&1 | sed 's/^/  refused: /'
say "asking for /../escape:"
"$ctl" create /../escape 2>&1 | sed 's/^/  refused: /'
say "asking for cgroup.procs:"
"$ctl" set /app cgroup.procs=1 2>&1 | sed 's/^/  refused: /'
touch /run/done
exec sleep 1000
