/* Placeholder until this module's tests are written: skipped. */
int main(void) { return 77; }
