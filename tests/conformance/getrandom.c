/* getrandom returns the bytes asked for; two draws differ; flags are checked. */
#include "conf.h"
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	unsigned char a[32], b[32], big[4096];

	CHECK("getrandom 32", getrandom(a, sizeof(a), 0));
	CHECK("getrandom 32 again", getrandom(b, sizeof(b), 0));
	BOOL("  draws differ", memcmp(a, b, sizeof(a)) != 0);
	CHECK("getrandom 1", getrandom(a, 1, 0));
	CHECK("getrandom 0", getrandom(a, 0, 0));
	CHECK("getrandom 4096 GRND_NONBLOCK", getrandom(big, sizeof(big), GRND_NONBLOCK));
	int zeros = 0;
	for (size_t i = 0; i < sizeof(big); i++)
		zeros += big[i] == 0;
	BOOL("  not mostly zero", zeros < 200);
	CHECK("getrandom GRND_RANDOM 16", getrandom(a, 16, GRND_RANDOM | GRND_NONBLOCK) > 0 ? 16 : -1);
	CHECK("getrandom bad flags", getrandom(a, 16, 0x100));
	CHECK("getrandom bad buffer", syscall(SYS_getrandom, (void *)8, 16, 0));
	return 0;
}
