//! `wasi:cli`: environment, exit, the standard streams and the terminals (there are none: every
//! `get-terminal-*` answers `none`, so guests treat their streams as pipes and print no colours).

use component_layer::{HostResource, Result};

use crate::bindings::wasi::cli::{
    environment, exit, stderr, stdin, stdout, terminal_input, terminal_output, terminal_stderr, terminal_stdin,
    terminal_stdout,
};
use crate::bindings::wasi::io::streams;
use crate::io::{InputStream, OutputStream};
use crate::table::Entry;
use crate::{I32Exit, WasiCtx};

impl environment::Host for WasiCtx {
    fn get_environment(&mut self) -> Result<Vec<(String, String)>> {
        Ok(self.env.clone())
    }

    fn get_arguments(&mut self) -> Result<Vec<String>> {
        Ok(self.args.clone())
    }

    fn initial_cwd(&mut self) -> Result<Option<String>> {
        Ok(self.cwd.clone())
    }
}

impl exit::Host for WasiCtx {
    fn exit(&mut self, status: std::result::Result<(), ()>) -> Result<()> {
        Err(I32Exit(if status.is_ok() { 0 } else { 1 }).into())
    }

    fn exit_with_code(&mut self, status_code: u8) -> Result<()> {
        Err(I32Exit(i32::from(status_code)).into())
    }
}

impl stdin::Host for WasiCtx {
    fn get_stdin(&mut self) -> Result<HostResource<streams::InputStream>> {
        let source = self.stdin.clone();
        self.table.push_own(Entry::Input(InputStream::Stdin(source)))
    }
}

impl stdout::Host for WasiCtx {
    fn get_stdout(&mut self) -> Result<HostResource<streams::OutputStream>> {
        let sink = self.stdout.clone();
        self.table.push_own(Entry::Output(OutputStream::Sink(sink)))
    }
}

impl stderr::Host for WasiCtx {
    fn get_stderr(&mut self) -> Result<HostResource<streams::OutputStream>> {
        let sink = self.stderr.clone();
        self.table.push_own(Entry::Output(OutputStream::Sink(sink)))
    }
}

impl terminal_input::HostTerminalInput for WasiCtx {
    fn drop(&mut self, rep: HostResource<terminal_input::TerminalInput>) -> Result<()> {
        self.table.remove(rep.rep()).map(|_| ())
    }
}

impl terminal_input::Host for WasiCtx {}

impl terminal_output::HostTerminalOutput for WasiCtx {
    fn drop(&mut self, rep: HostResource<terminal_output::TerminalOutput>) -> Result<()> {
        self.table.remove(rep.rep()).map(|_| ())
    }
}

impl terminal_output::Host for WasiCtx {}

impl terminal_stdin::Host for WasiCtx {
    fn get_terminal_stdin(&mut self) -> Result<Option<HostResource<terminal_input::TerminalInput>>> {
        Ok(None)
    }
}

impl terminal_stdout::Host for WasiCtx {
    fn get_terminal_stdout(&mut self) -> Result<Option<HostResource<terminal_output::TerminalOutput>>> {
        Ok(None)
    }
}

impl terminal_stderr::Host for WasiCtx {
    fn get_terminal_stderr(&mut self) -> Result<Option<HostResource<terminal_output::TerminalOutput>>> {
        Ok(None)
    }
}
