// Placeholder entry point; the CLI is being written.
#include <cstdio>
int main() { std::puts("epochwatt: CLI not built yet"); return 1; }
