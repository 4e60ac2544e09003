"""Who can reach the page: the warning a non-loopback ``--host`` gets."""

from __future__ import annotations

import ipaddress


def reach_warning(host: str, port: int) -> str | None:
    """Who besides this machine can reach a server bound to ``host`` (None for a loopback address).

    Parameters
    ----------
    host : str
        The address the server is bound to.
    port : int
        Its port.

    Returns
    -------
    str or None
        A warning naming who can open the page and change the session, or None when only this
        machine can.
    """
    name = host.strip("[]").lower()
    if name == "localhost":
        return None
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    if address is not None and address.is_loopback:
        return None
    if address is not None and address.is_unspecified:
        who = (
            f"every computer that can reach this machine on port {port} "
            f"(host {host} binds every network interface)"
        )
    else:
        who = f"every computer that can reach {host} on port {port}, not only this machine"
    return (
        f"the playground is open to {who}: anyone there can open the page, read its data and "
        "change the session. Use --host 127.0.0.1 (the default) to keep it to this machine."
    )
