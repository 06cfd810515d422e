#!/usr/bin/env bash
# The GPU checks, in one go on a CUDA machine (see docs/deploy.md): the GPU tests, the bench on
# the GPU, then the engine's test suite. Usage: scripts/gpu_checks.sh MNIST_DIR OUT_DIR
# The UI tests need streamlit/plotly/Chromium and are left to the CPU machine.
set -u
mnist=${1:?MNIST folder}; out=${2:-/tmp/gpu-checks}; mkdir -p "$out"
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
py=${PYTHON:-python3}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
$py -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())" | tee -a "$out/gpu.txt"
opts=(-q -o "addopts=-ra" -p no:cacheprovider)
timeout 200 $py -m pytest "${opts[@]}" -x tests/test_gpu.py --durations=5 2>&1 | tee "$out/gpu_tests.txt"
timeout 120 $py scripts/gpu_class.py "$mnist" --jobs 8 --slots 4 2>&1 | tee "$out/class.txt"
timeout 150 $py -m playground bench --device cuda --data-dir "$mnist" --no-reference 2>&1 | tee "$out/bench.txt"
skip=(--ignore=tests/ui --ignore=tests/test_gpu.py --ignore=tests/test_balancer.py --ignore=tests/test_browser.py
      --ignore=tests/test_classroom.py --ignore=tests/test_charts.py)
timeout 240 $py -m pytest "${opts[@]}" -n 8 "${skip[@]}" tests --durations=10 2>&1 | tee "$out/suite.txt"
