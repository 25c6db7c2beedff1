//! `contact-ledger`: the command-line front of the ledger (see [`ledger_server::cli`]).

/// Every allocation of the binary goes through jemalloc rather than glibc's malloc: the API
/// allocates many small, short-lived values per request on every worker thread, where glibc's
/// `_int_malloc`, `_int_free` and `malloc_consolidate` took a quarter of the server's CPU.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    ledger_server::cli::main()
}
