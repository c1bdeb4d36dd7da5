/*
 * main.c: proxierd entry point (placeholder until the core lands in this same series).
 */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "proxierd %s\n", PROXIER_VERSION);
    return 0;
}
