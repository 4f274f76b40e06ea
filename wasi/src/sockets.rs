//! `wasi:sockets`: links, and answers `not-supported`.
//!
//! `instance-network` hands out a network handle (it cannot fail), but creating a TCP or UDP socket and
//! resolving a name fail with `not-supported`, so no socket, datagram stream or address stream ever exists.
//! The methods of those resources therefore cannot be reached with a valid handle; should one be called anyway,
//! it traps.
//!
//! Generated once from the `bindgen!` traits (one stub per method) and kept by hand since.

use component_layer::{HostResource, Result};

use crate::bindings::wasi::io::{poll, streams};
use crate::bindings::wasi::sockets::{
    instance_network, ip_name_lookup, network, tcp, tcp_create_socket, udp, udp_create_socket,
};
use crate::table::{trap, Entry};
use crate::WasiCtx;

use ip_name_lookup::ResolveAddressStream;
use network::{ErrorCode, IpAddress, IpAddressFamily, IpSocketAddress, Network};
use poll::Pollable;
use streams::{InputStream, OutputStream};
use tcp::{Duration, ShutdownType, TcpSocket};
use udp::{IncomingDatagram, IncomingDatagramStream, OutgoingDatagram, OutgoingDatagramStream, UdpSocket};

fn no_socket() -> component_layer::Error {
    trap("sockets are not supported, so no socket exists")
}

impl instance_network::Host for WasiCtx {
    fn instance_network(&mut self) -> Result<HostResource<Network>> {
        self.table.push_own(Entry::Unit)
    }
}

impl ip_name_lookup::HostResolveAddressStream for WasiCtx {
    fn resolve_next_address(
        &mut self,
        _: HostResource<ResolveAddressStream>,
    ) -> Result<Result<Option<IpAddress>, ErrorCode>> {
        Err(no_socket())
    }

    fn subscribe(&mut self, _: HostResource<ResolveAddressStream>) -> Result<HostResource<Pollable>> {
        Err(no_socket())
    }

    fn drop(&mut self, _: HostResource<ResolveAddressStream>) -> Result<()> {
        Err(no_socket())
    }
}

impl ip_name_lookup::Host for WasiCtx {
    fn resolve_addresses(
        &mut self,
        _: HostResource<Network>,
        _: String,
    ) -> Result<Result<HostResource<ResolveAddressStream>, ErrorCode>> {
        Ok(Err(ErrorCode::NotSupported))
    }
}

impl network::HostNetwork for WasiCtx {
    fn drop(&mut self, rep: HostResource<Network>) -> Result<()> {
        self.table.remove(rep.rep()).map(|_| ())
    }
}

impl network::Host for WasiCtx {}

impl tcp::HostTcpSocket for WasiCtx {
    fn start_bind(
        &mut self,
        _: HostResource<TcpSocket>,
        _: HostResource<Network>,
        _: IpSocketAddress,
    ) -> Result<Result<(), ErrorCode>> {
        Err(no_socket())
    }

    fn finish_bind(&mut self, _: HostResource<TcpSocket>) -> Result<Result<(), ErrorCode>> {
        Err(no_socket())
    }

    fn start_connect(
        &mut self,
        _: HostResource<TcpSocket>,
        _: HostResource<Network>,
        _: IpSocketAddress,
    ) -> Result<Result<(), ErrorCode>> {
        Err(no_socket())
    }

    fn finish_connect(
        &mut self,
        _: HostResource<TcpSocket>,
    ) -> Result<Result<(HostResource<InputStream>, HostResource<OutputStream>), ErrorCode>> {
        Err(no_socket())
    }

    fn start_listen(&mut self, _: HostResource<TcpSocket>) -> Result<Result<(), ErrorCode>> {
        Err(no_socket())
    }

    fn finish_listen(&mut self, _: HostResource<TcpSocket>) -> Result<Result<(), ErrorCode>> {
        Err(no_socket())
    }

    fn accept(
        &mut self,
        _: HostResource<TcpSocket>,
    ) -> Result<Result<(HostResource<TcpSocket>, HostResource<InputStream>, HostResource<OutputStream>), ErrorCode>>
    {
        Err(no_socket())
    }

    fn local_address(&mut self, _: HostResource<TcpSocket>) -> Result<Result<IpSocketAddress, ErrorCode>> {
        Err(no_socket())
    }

    fn remote_address(&mut self, _: HostResource<TcpSocket>) -> Result<Result<IpSocketAddress, ErrorCode>> {
        Err(no_socket())
    }

    fn is_listening(&mut self, _: HostResource<TcpSocket>) -> Result<bool> {
        Err(no_socket())
    }

    fn address_family(&mut self, _: HostResource<TcpSocket>) -> Result<IpAddressFamily> {
        Err(no_socket())
    }

    fn set_listen_backlog_size(&mut self, _: HostResource<TcpSocket>, _: u64) -> Result<Result<(), ErrorCode>> {
        Err(no_socket())
    }

    fn keep_alive_enabled(&mut self, _: HostResource<TcpSocket>) -> Result<Result<bool, ErrorCode>> {
        Err(no_socket())
    }

    fn set_keep_alive_enabled(&mut self, _: HostResource<TcpSocket>, _: bool) -> Result<Result<(), ErrorCode>> {
        Err(no_socket())
    }

    fn keep_alive_idle_time(&mut self, _: HostResource<TcpSocket>) -> Result<Result<Duration, ErrorCode>> {
        Err(no_socket())
    }

    fn set_keep_alive_idle_time(&mut self, _: HostResource<TcpSocket>, _: Duration) -> Result<Result<(), ErrorCode>> {
        Err(no_socket())
    }

    fn keep_alive_interval(&mut self, _: HostResource<TcpSocket>) -> Result<Result<Duration, ErrorCode>> {
        Err(no_socket())
    }

    fn set_keep_alive_interval(&mut self, _: HostResource<TcpSocket>, _: Duration) -> Result<Result<(), ErrorCode>> {
        Err(no_socket())
    }

    fn keep_alive_count(&mut self, _: HostResource<TcpSocket>) -> Result<Result<u32, ErrorCode>> {
        Err(no_socket())
    }

    fn set_keep_alive_count(&mut self, _: HostResource<TcpSocket>, _: u32) -> Result<Result<(), ErrorCode>> {
        Err(no_socket())
    }

    fn hop_limit(&mut self, _: HostResource<TcpSocket>) -> Result<Result<u8, ErrorCode>> {
        Err(no_socket())
    }

    fn set_hop_limit(&mut self, _: HostResource<TcpSocket>, _: u8) -> Result<Result<(), ErrorCode>> {
        Err(no_socket())
    }

    fn receive_buffer_size(&mut self, _: HostResource<TcpSocket>) -> Result<Result<u64, ErrorCode>> {
        Err(no_socket())
    }

    fn set_receive_buffer_size(&mut self, _: HostResource<TcpSocket>, _: u64) -> Result<Result<(), ErrorCode>> {
        Err(no_socket())
    }

    fn send_buffer_size(&mut self, _: HostResource<TcpSocket>) -> Result<Result<u64, ErrorCode>> {
        Err(no_socket())
    }

    fn set_send_buffer_size(&mut self, _: HostResource<TcpSocket>, _: u64) -> Result<Result<(), ErrorCode>> {
        Err(no_socket())
    }

    fn subscribe(&mut self, _: HostResource<TcpSocket>) -> Result<HostResource<Pollable>> {
        Err(no_socket())
    }

    fn shutdown(&mut self, _: HostResource<TcpSocket>, _: ShutdownType) -> Result<Result<(), ErrorCode>> {
        Err(no_socket())
    }

    fn drop(&mut self, _: HostResource<TcpSocket>) -> Result<()> {
        Err(no_socket())
    }
}

impl tcp::Host for WasiCtx {}

impl tcp_create_socket::Host for WasiCtx {
    fn create_tcp_socket(&mut self, _: IpAddressFamily) -> Result<Result<HostResource<TcpSocket>, ErrorCode>> {
        Ok(Err(ErrorCode::NotSupported))
    }
}

impl udp::HostUdpSocket for WasiCtx {
    fn start_bind(
        &mut self,
        _: HostResource<UdpSocket>,
        _: HostResource<Network>,
        _: IpSocketAddress,
    ) -> Result<Result<(), ErrorCode>> {
        Err(no_socket())
    }

    fn finish_bind(&mut self, _: HostResource<UdpSocket>) -> Result<Result<(), ErrorCode>> {
        Err(no_socket())
    }

    fn stream(
        &mut self,
        _: HostResource<UdpSocket>,
        _: Option<IpSocketAddress>,
    ) -> Result<Result<(HostResource<IncomingDatagramStream>, HostResource<OutgoingDatagramStream>), ErrorCode>> {
        Err(no_socket())
    }

    fn local_address(&mut self, _: HostResource<UdpSocket>) -> Result<Result<IpSocketAddress, ErrorCode>> {
        Err(no_socket())
    }

    fn remote_address(&mut self, _: HostResource<UdpSocket>) -> Result<Result<IpSocketAddress, ErrorCode>> {
        Err(no_socket())
    }

    fn address_family(&mut self, _: HostResource<UdpSocket>) -> Result<IpAddressFamily> {
        Err(no_socket())
    }

    fn unicast_hop_limit(&mut self, _: HostResource<UdpSocket>) -> Result<Result<u8, ErrorCode>> {
        Err(no_socket())
    }

    fn set_unicast_hop_limit(&mut self, _: HostResource<UdpSocket>, _: u8) -> Result<Result<(), ErrorCode>> {
        Err(no_socket())
    }

    fn receive_buffer_size(&mut self, _: HostResource<UdpSocket>) -> Result<Result<u64, ErrorCode>> {
        Err(no_socket())
    }

    fn set_receive_buffer_size(&mut self, _: HostResource<UdpSocket>, _: u64) -> Result<Result<(), ErrorCode>> {
        Err(no_socket())
    }

    fn send_buffer_size(&mut self, _: HostResource<UdpSocket>) -> Result<Result<u64, ErrorCode>> {
        Err(no_socket())
    }

    fn set_send_buffer_size(&mut self, _: HostResource<UdpSocket>, _: u64) -> Result<Result<(), ErrorCode>> {
        Err(no_socket())
    }

    fn subscribe(&mut self, _: HostResource<UdpSocket>) -> Result<HostResource<Pollable>> {
        Err(no_socket())
    }

    fn drop(&mut self, _: HostResource<UdpSocket>) -> Result<()> {
        Err(no_socket())
    }
}

impl udp::HostIncomingDatagramStream for WasiCtx {
    fn receive(
        &mut self,
        _: HostResource<IncomingDatagramStream>,
        _: u64,
    ) -> Result<Result<Vec<IncomingDatagram>, ErrorCode>> {
        Err(no_socket())
    }

    fn subscribe(&mut self, _: HostResource<IncomingDatagramStream>) -> Result<HostResource<Pollable>> {
        Err(no_socket())
    }

    fn drop(&mut self, _: HostResource<IncomingDatagramStream>) -> Result<()> {
        Err(no_socket())
    }
}

impl udp::HostOutgoingDatagramStream for WasiCtx {
    fn check_send(&mut self, _: HostResource<OutgoingDatagramStream>) -> Result<Result<u64, ErrorCode>> {
        Err(no_socket())
    }

    fn send(
        &mut self,
        _: HostResource<OutgoingDatagramStream>,
        _: Vec<OutgoingDatagram>,
    ) -> Result<Result<u64, ErrorCode>> {
        Err(no_socket())
    }

    fn subscribe(&mut self, _: HostResource<OutgoingDatagramStream>) -> Result<HostResource<Pollable>> {
        Err(no_socket())
    }

    fn drop(&mut self, _: HostResource<OutgoingDatagramStream>) -> Result<()> {
        Err(no_socket())
    }
}

impl udp::Host for WasiCtx {}

impl udp_create_socket::Host for WasiCtx {
    fn create_udp_socket(&mut self, _: IpAddressFamily) -> Result<Result<HostResource<UdpSocket>, ErrorCode>> {
        Ok(Err(ErrorCode::NotSupported))
    }
}
