#!/usr/bin/env bash
# A real single-node SLURM cluster on this Debian 12 machine, for tests/test_slurm.py (CI only).
#   bash .ci/slurm.sh up       install (if missing), configure and start munged, slurmctld, slurmd;
#                              returns once `sinfo` shows this node idle (idempotent)
#   bash .ci/slurm.sh down     stop the three daemons by their pid files
#   bash .ci/slurm.sh status   sinfo and squeue
# Needs root (it writes /etc/slurm/slurm.conf and runs the daemons as root, SlurmUser=root).
# Nothing here is needed on a real cluster: there, only profiles/slurm/config.yaml is used.
set -euo pipefail

CONF_DIR=/etc/slurm
CONF="$CONF_DIR/slurm.conf"
STATE_DIR=/var/spool/slurm-ci  # slurmctld state, slurmd spool, daemon logs
RUN_DIR=/run/slurm-ci          # pid files
MUNGE_PID=/run/munge/munged.pid
CTLD_PID="$RUN_DIR/slurmctld.pid"
SLURMD_PID="$RUN_DIR/slurmd.pid"
UP_TIMEOUT_S=${SLURM_UP_TIMEOUT_S:-90}

log() { echo "slurm.sh: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

running() { [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

install_packages() {
  local missing=()
  command -v munged >/dev/null || missing+=(munge)
  command -v slurmctld >/dev/null || missing+=(slurmctld)
  command -v slurmd >/dev/null || missing+=(slurmd)
  command -v sbatch >/dev/null || missing+=(slurm-client)
  ((${#missing[@]})) || return 0
  [[ $(id -u) == 0 ]] || die "missing ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}"
  log "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  # Other jobs on the machine may hold the dpkg lock for a while: wait instead of failing.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

start_munge() {
  if [[ ! -s /etc/munge/munge.key ]]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  fi
  chown munge:munge /etc/munge/munge.key 2>/dev/null || true
  chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge /var/lib/munge "$STATE_DIR"
  if ! running "$MUNGE_PID"; then
    # --force: munged refuses to run as root otherwise (no systemd in containers/CI).
    munged --force --pid-file="$MUNGE_PID" --log-file="$STATE_DIR/munged.log"
  fi
  for _ in $(seq 50); do munge -n </dev/null | unmunge >/dev/null 2>&1 && return 0; sleep 0.2; done
  die "munged does not answer (munge -n | unmunge fails)"
}

write_conf() {
  # slurmd -C reports this machine exactly as slurmd will see it (CPUs, sockets, cores,
  # RealMemory in MB); a node declared bigger than it is gets drained, so use its numbers.
  local host node_line
  host=$(hostname -s)
  node_line=$(slurmd -C 2>/dev/null | head -1 | sed -e 's/^NodeName=[^ ]* //' || true)
  if [[ $node_line != *CPUs=* ]]; then
    node_line="CPUs=$(nproc) RealMemory=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024))"
  fi
  mkdir -p "$CONF_DIR" "$STATE_DIR/ctld" "$STATE_DIR/d" "$RUN_DIR"
  local new="$CONF.new"
  cat >"$new" <<EOF
# Written by .ci/slurm.sh: a single-node cluster for CI. Do not use in production.
ClusterName=ci
# host(address): the address avoids depending on how the container resolves its name.
SlurmctldHost=$host(127.0.0.1)
AuthType=auth/munge
CryptoType=crypto/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$STATE_DIR/ctld
SlurmdSpoolDir=$STATE_DIR/d
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$STATE_DIR/slurmctld.log
SlurmdLogFile=$STATE_DIR/slurmd.log
# No cgroups in containers: track processes through /proc, no task binding or affinity.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
# Allocate cores and memory, so jobs' threads and mem_mb are enforced as on a real cluster.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# No slurmdbd (it needs a MySQL server), so sacct fails ("Slurm accounting storage is
# disabled"): tests/test_slurm.py has Snakemake ask squeue for job states instead. squeue
# and scontrol know a finished job for MinJobAge seconds; the SLURM executor plugin only
# trusts squeue when MinJobAge >= 3 x its first status-check delay, and the test checks
# every job's final state after the run, so keep finished jobs for two hours.
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=7200
ReturnToService=2
SchedulerType=sched/backfill
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
KillWait=10
NodeName=$host NodeAddr=127.0.0.1 $node_line State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  if cmp -s "$new" "$CONF"; then
    rm "$new"
    return 1 # unchanged
  fi
  mv "$new" "$CONF"
}

stop_daemon() { # pidfile name
  local pid
  running "$1" || return 0
  pid=$(cat "$1")
  kill "$pid"
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  rm -f "$1"
  log "stopped $2 (pid $pid)"
}

wait_idle() {
  local deadline=$((SECONDS + UP_TIMEOUT_S)) state=""
  while ((SECONDS < deadline)); do
    state=$(sinfo --noheader --Node --format=%t 2>/dev/null | head -1 || true)
    case $state in
      idle | mix | alloc) log "node $(hostname -s) is $state"; return 0 ;;
      down* | drain* | drng*)
        # A restart with saved state can leave the node down: it is ours, resume it.
        scontrol update NodeName="$(hostname -s)" State=RESUME 2>/dev/null || true ;;
    esac
    sleep 1
  done
  log "sinfo still says '${state:-nothing}' after ${UP_TIMEOUT_S}s; daemon logs:"
  tail -n 20 "$STATE_DIR/slurmctld.log" "$STATE_DIR/slurmd.log" >&2 || true
  sinfo --Node --long >&2 || true
  die "the single-node SLURM cluster did not come up (see $STATE_DIR/*.log)"
}

up() {
  [[ $(id -u) == 0 ]] || die "run as root (the CI cluster runs its daemons as root)"
  install_packages
  start_munge
  if write_conf && { running "$CTLD_PID" || running "$SLURMD_PID"; }; then
    log "slurm.conf changed: restarting the daemons"
    stop_daemon "$SLURMD_PID" slurmd
    stop_daemon "$CTLD_PID" slurmctld
  fi
  local started=0
  # -c: start from a clean state, so jobs left by an earlier, killed run never occupy the node.
  running "$CTLD_PID" || { slurmctld -c -f "$CONF" && started=1; } # daemonizes, writes a pid file
  running "$SLURMD_PID" || { slurmd -c -f "$CONF" && started=1; }
  # Daemons that were already up may still hold an earlier run's jobs: cancel them.
  ((started)) || scancel --quiet --user "$(id -un)" 2>/dev/null || true
  wait_idle
  if ((started)); then
    # Saved state can show the node idle before slurmd has registered: run one real job step.
    timeout 90 srun --quiet --immediate=60 --ntasks=1 --mem=10 true ||
      die "a test job (srun true) did not run (see $STATE_DIR/*.log)"
    log "a test job ran"
  fi
}

down() {
  stop_daemon "$SLURMD_PID" slurmd
  stop_daemon "$CTLD_PID" slurmctld
  stop_daemon "$MUNGE_PID" munged
}

case ${1:-} in
  up) up ;;
  down) down ;;
  status) sinfo && squeue ;;
  *) die "usage: $0 up|down|status" ;;
esac
