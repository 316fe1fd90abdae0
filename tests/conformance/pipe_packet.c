/* Packet-mode pipes (O_DIRECT): a read returns one packet, the part of a packet that
 * does not fit is dropped, and stream writes between packets read as a stream. */
#include "conf.h"
#include <fcntl.h>
#include <unistd.h>

int main(void)
{
	int p[2];
	char b[64];
	CHECK("pipe2 O_DIRECT", pipe2(p, O_DIRECT));
	write(p[1], "hello", 5);
	write(p[1], "world!", 6);
	printf("read whole packet: %zd\n", read(p[0], b, sizeof b));
	printf("read 3 of a 6-byte packet: %zd\n", read(p[0], b, 3));
	write(p[1], "abc", 3);
	CHECK("clear O_DIRECT on the write end", fcntl(p[1], F_SETFL, 0));
	write(p[1], "stream", 6);
	write(p[1], "more", 4);
	printf("packet after a dropped tail: %zd\n", read(p[0], b, sizeof b));
	printf("stream bytes, part: %zd\n", read(p[0], b, 4));
	printf("stream bytes, rest: %zd\n", read(p[0], b, sizeof b));
	return 0;
}
