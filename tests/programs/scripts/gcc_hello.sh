# gcc inside ward: compile in the sandbox's /tmp and run the result.
set -e
d=$(mktemp -d /tmp/gcc.XXXXXX)
cd "$d"
printf '#include <stdio.h>\nint main(){puts("built");}\n' > h.c
gcc -O2 h.c -o h
./h
