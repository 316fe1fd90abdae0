# make -j2 of a 3-file C project inside ward.
set -e
d=$(mktemp -d /tmp/make.XXXXXX)
cd "$d"
printf 'int f(void);\nint g(void);\n#include <stdio.h>\nint main(){printf("%%d\\n", f()+g());return 0;}\n' > main.c
echo 'int f(void){return 40;}' > f.c
echo 'int g(void){return 2;}' > g.c
printf 'prog: main.o f.o g.o\n\tgcc -o prog main.o f.o g.o\n%%.o: %%.c\n\tgcc -c -O2 $< -o $@\n' > Makefile
make -s -j2
./prog
