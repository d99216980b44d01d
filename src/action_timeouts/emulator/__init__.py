"""A local emulator of the Genesys Cloud data-actions API and integrations list.

The emulator keeps what the fake org knows (`state`), how it speaks HTTP (`app`,
`wire`) and how tests steer it (`control`) apart; `server.running_emulator` serves
it on a loopback port. The library never imports this package.
"""
