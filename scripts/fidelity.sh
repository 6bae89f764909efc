#!/usr/bin/env bash
# Regenerates docs/fidelity/fidelity.md: the published end-to-end measurements of docs/fidelity/measurements.csv
# against roofline's bound and expected figures (`roofline fidelity`). Builds first if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x build/roofline/roofline ]] || bash scripts/build.sh
{
  echo "# Fidelity: published end-to-end measurements against the bound and the expected figures"
  echo
  echo "Made by \`bash scripts/fidelity.sh\` (\`roofline fidelity --format markdown\`) from"
  echo "[measurements.csv](measurements.csv). error = expected / measured - 1. Nothing is fitted to these rows: the"
  echo "expected figures come from the presets' kernel-level efficiency figures. primary: the rows the targets are"
  echo "judged on; held_out: further measurements that check the model independently."
  echo
  build/roofline/roofline fidelity --table docs/fidelity/measurements.csv --format markdown
} > docs/fidelity/fidelity.md.tmp
mv docs/fidelity/fidelity.md.tmp docs/fidelity/fidelity.md
echo "wrote docs/fidelity/fidelity.md"
