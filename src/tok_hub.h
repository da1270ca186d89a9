/*
 * Where a --tokenizer argument points: a tokenizer.json file, a directory
 * holding one, or a Hugging Face hub model id (ORG/NAME or NAME) looked up
 * offline in the local hub cache as huggingface_hub lays it out:
 * ROOT/models--ORG--NAME/snapshots/REV/tokenizer.json with REV read from
 * ROOT/models--ORG--NAME/refs/main. ROOT is $HF_HUB_CACHE, else
 * $HF_HOME/hub, else ~/.cache/huggingface/hub. Nothing is downloaded.
 *
 * Library code: 0 or a negative errno, never prints.
 */
#ifndef METRICSD_TOK_HUB_H
#define METRICSD_TOK_HUB_H

#include <stddef.h>

/*
 * Resolve spec to the path of a tokenizer.json in path[0..pathlen).
 * -ENOENT when it resolves nowhere: err then lists every place looked at.
 * -ENAMETOOLONG for paths that do not fit.
 */
int tok_hub_resolve(const char *spec, char *path, size_t pathlen, char *err,
    size_t errlen);

#endif
