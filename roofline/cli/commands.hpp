// The subcommands of the `roofline` program. Each takes argv from its own name on, writes its output,
// and returns the exit code; errors are thrown for main to print.
#pragma once

namespace roofline::cli {

int analyze(int argc, const char* const* argv);
int fidelity(int argc, const char* const* argv);
int list(int argc, const char* const* argv);
int measure_host(int argc, const char* const* argv);
int plot(int argc, const char* const* argv);
int report(int argc, const char* const* argv);
int run(int argc, const char* const* argv);
int search(int argc, const char* const* argv);
int simulate(int argc, const char* const* argv);
int validate(int argc, const char* const* argv);

}  // namespace roofline::cli
