# asyncio with a local server: an echo server on an ephemeral loopback port and a client.
import asyncio

async def handle(reader, writer):
    data = await reader.readline()
    writer.write(data.upper())
    await writer.drain()
    writer.close()
    await writer.wait_closed()

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    replies = []
    for word in ("hello", "sandbox"):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(word.encode() + b"\n")
        await writer.drain()
        replies.append((await reader.readline()).decode().strip())
        writer.close()
        await writer.wait_closed()
    server.close()
    await server.wait_closed()
    print(" ".join(replies))

asyncio.run(main())
