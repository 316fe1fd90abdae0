/* RLIMIT_AS and the map count: mappings past the address-space limit fail with ENOMEM. */
#include "conf.h"
#include <sys/mman.h>
#include <sys/resource.h>

int main(void)
{
	struct rlimit rl = {256ul << 20, 256ul << 20};
	CHECK("setrlimit RLIMIT_AS 256 MiB", setrlimit(RLIMIT_AS, &rl));
	void *big = mmap(NULL, 512ul << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK_PTR("mmap 512 MiB over the limit", big);
	void *small = mmap(NULL, 1ul << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK_PTR("mmap 1 MiB under the limit", small);
	/* Many maps until the limit bites: counts differ, only the errno matters. */
	int err = 0;
	for (int i = 0; i < 100000; i++) {
		void *p = mmap(NULL, 4ul << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			err = errno;
			break;
		}
	}
	printf("filling the limit ends with: %s\n", conf_errname(err));
	return 0;
}
