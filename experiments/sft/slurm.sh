#!/usr/bin/env bash
# Multi-node SFT under SLURM: one `accelerate launch` per node, 8 GPUs each.
#   sbatch --nodes=2 --gpus-per-node=8 experiments/sft/slurm.sh \
#     experiments/sft/accelerate/fsdp_multinode.yaml experiments/sft/paper-instruct.yaml model=... data=...
#SBATCH --job-name=ssd-sft
#SBATCH --ntasks-per-node=1
#SBATCH --exclusive
set -euo pipefail
launch_config=$1; sft_config=$2; shift 2
gpus_per_node=${GPUS_PER_NODE:-8}
master_addr=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
srun bash -c "accelerate launch --config_file '$launch_config' \
  --num_machines $SLURM_NNODES --num_processes $((gpus_per_node * SLURM_NNODES)) \
  --machine_rank \$SLURM_NODEID --main_process_ip $master_addr --main_process_port ${MASTER_PORT:-29500} \
  -m ssd.cli train --config '$sft_config' $*"
