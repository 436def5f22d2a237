#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# What runs inside the demo container (as pid 1 of its pid namespace): a client that asks
# cgdelegated, through /run/host/cgdelegate/socket, for groups and limits, and shows them at work.
set -u
tool=$1
sock=unix:path=/run/host/cgdelegate/socket
call() { busctl --address="$sock" call org.cgdelegate /org/cgdelegate org.cgdelegate.Container1 "$@"; }
say() { printf '[container] %s\n' "$*"; }

# The runtime sets the leader after starting us; methods that take pids wait for it.
for _ in $(seq 100); do call GetProcesses sb / false >/dev/null 2>&1 && break; sleep 0.05; done

say "CreateGroup /app -> $(call CreateGroup 'sa{sv}' /app 0)"
say "SetProperties /app memory.max=64M pids.max=5 cpu.max='20000 100000'"
call SetProperties 'sa(ss)a{sv}' /app 3 memory.max 64M pids.max 5 cpu.max "20000 100000" 0 || exit 1
say "GetProperties /app: $(call GetProperties sas /app 3 memory.max pids.max cpu.max)"

mkfifo /run/go
bash -c 'read -r _ < /run/go; exec "$0" forks 10' "$tool" &
worker=$!
call MoveProcess 'sua{sv}' /app "$worker" 0 && say "moved pid $worker into /app; it forks 10 children:"
echo go > /run/go
wait "$worker"
call Kill 'sia{sv}' /app 9 0 && say "killed what was left in /app"

call CreateGroup 'sa{sv}' /cpu 0 >/dev/null
call SetProperties 'sa(ss)a{sv}' /cpu 1 cpu.max "20000 100000" 0
bash -c 'read -r _ < /run/go; exec "$0" spin 1000' "$tool" &
spinner=$!
call MoveProcess 'sua{sv}' /cpu "$spinner" 0 && say "moved pid $spinner into /cpu (cpu.max 20%); it spins for 1 s"
echo go > /run/go
wait "$spinner"

say "asking for memory.max=1G on /app (the policy's ceiling is 256M):"
call SetProperties 'sa(ss)a{sv}' /app 1 memory.max 1G 0 2>&1 | sed 's/^/  refused: /'
say "asking for /../escape:"
call CreateGroup 'sa{sv}' /../escape 0 2>&1 | sed 's/^/  refused: /'
say "asking for cgroup.procs:"
call SetProperties 'sa(ss)a{sv}' /app 1 cgroup.procs 1 0 2>&1 | sed 's/^/  refused: /'
touch /run/done
exec sleep 1000
