/* NSF images (gzip-compressed tar archives) are unpacked as root by the
 * native engine: before tar runs, our own reading of the archive's entries
 * refuses whatever could land outside the package directory; after it
 * ran, what a package has no business holding is stripped.  We do not rely
 * on tar alone: its protections differ between versions and options, and
 * an image comes from a repository that may be remote. */
#ifndef CORCH_NSF_IMAGE_H
#define CORCH_NSF_IMAGE_H 1

#include "util.h"

/* Reads every entry header of the .tgz at 'path' (without extracting) and
 * refuses: an absolute name, a ".." component, a name under an earlier
 * symlink entry, a symlink whose target is absolute or leaves the image
 * directory, a hard link to such a name, an entry type tar would handle
 * in a way we cannot check (sparse, multi-volume, ...), a corrupt or
 * truncated archive.  Names in pax ('x') and GNU long-name ('L', 'K')
 * records count as the names.  Returns 0, or -EINVAL (kind failed: the
 * node's image is bad, not the request; the message names 'image', a
 * display name, and the entry), or a negative errno if the file cannot be
 * read. */
int nsf_image_check(const char *path, const char *image, struct corch_err *err);

/* Walks the unpacked tree at 'dir' (without following symlinks): clears
 * the setuid and setgid bits and removes device nodes, FIFOs and sockets;
 * logs what it changed, naming 'image'.  Returns 0 or a negative errno
 * (kind failed). */
int nsf_image_strip(const char *dir, const char *image, struct corch_err *err);

#endif
