// SPDX-License-Identifier: MIT
/*
 * Function ranges from .eh_frame FDEs.
 *
 * libdw's dwarf_next_cfi() does the framing (lengths, CIE/FDE split, CIE
 * pointers turned into section offsets, augmentation data located); what
 * it leaves to the caller is decoding an FDE's initial_location and
 * address_range, whose encoding the CIE's 'R' augmentation names.  That
 * is done here, for the encodings compilers use for .eh_frame: absolute
 * and pc-relative, of any width.
 */
#include <errno.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <dwarf.h>
#include <elfutils/libdw.h>

#include "sites.h"
#include "sites_ehframe.h"

/* One CIE, as much of it as decoding its FDEs needs. */
struct cie_info {
	Dwarf_Off offset;	/* section offset */
	uint8_t fde_enc;	/* DW_EH_PE_* of initial_location/address_range */
	bool usable;		/* augmentation understood */
};

struct cfi_reader {
	const uint8_t *base;	/* section data */
	uint64_t sh_addr;	/* vaddr of base[0] */
	bool msb;		/* big-endian file */
};

struct range {
	uint64_t lo, hi;
};

static uint64_t read_uint(const uint8_t *p, size_t n, bool msb)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[msb ? i : n - 1 - i] << (8 * (n - 1 - i));
	return v;
}

static bool read_leb(const uint8_t **pp, const uint8_t *end, bool sign, uint64_t *val)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;
	unsigned shift = 0;
	uint8_t b;

	do {
		if (p >= end || shift >= 64)
			return false;
		b = *p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	if (sign && shift < 64 && (b & 0x40))
		v |= ~UINT64_C(0) << shift;
	*pp = p;
	*val = v;
	return true;
}

/*
 * Reads one value of pointer encoding @enc at *@pp (not beyond @end) and
 * advances *@pp.  With @apply, pc-relative values are made absolute; the
 * address_range of an FDE uses only the format, never the application.
 */
static bool read_encoded(const struct cfi_reader *r, const uint8_t **pp,
			 const uint8_t *end, uint8_t enc, bool apply, uint64_t *val)
{
	const uint8_t *p = *pp;
	size_t width = 0;
	bool sign = false;
	uint64_t v;

	if (enc == DW_EH_PE_omit || (enc & DW_EH_PE_indirect))
		return false;
	switch (enc & 0x0f) {
	case DW_EH_PE_absptr:
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8:
		width = 8;
		break;
	case DW_EH_PE_udata2:
		width = 2;
		break;
	case DW_EH_PE_sdata2:
		width = 2, sign = true;
		break;
	case DW_EH_PE_udata4:
		width = 4;
		break;
	case DW_EH_PE_sdata4:
		width = 4, sign = true;
		break;
	case DW_EH_PE_uleb128:
		if (!read_leb(&p, end, false, &v))
			return false;
		break;
	case DW_EH_PE_sleb128:
		if (!read_leb(&p, end, true, &v))
			return false;
		break;
	default:
		return false;
	}
	if (width) {
		if ((size_t)(end - p) < width)
			return false;
		v = read_uint(p, width, r->msb);
		if (sign && width < 8 && (v >> (8 * width - 1)))
			v |= ~UINT64_C(0) << (8 * width);
		p += width;
	}
	if (apply) {
		switch (enc & 0x70) {
		case DW_EH_PE_absptr:
			break;
		case DW_EH_PE_pcrel:
			v += r->sh_addr + (uint64_t)(*pp - r->base);
			break;
		default:
			return false;	/* textrel/datarel/funcrel: not in .eh_frame FDEs */
		}
	}
	*pp = p;
	*val = v;
	return true;
}

/* The FDE pointer encoding a CIE's augmentation names (absptr without 'R'). */
static void parse_cie(const struct cfi_reader *r, const Dwarf_CIE *cie,
		      struct cie_info *ci)
{
	const char *aug = cie->augmentation;
	const uint8_t *p = cie->augmentation_data;
	const uint8_t *end = p ? p + cie->augmentation_data_size : NULL;

	ci->fde_enc = DW_EH_PE_absptr;
	ci->usable = false;
	if (!aug)
		return;
	if (!*aug) {
		ci->usable = true;
		return;
	}
	/* Without 'z' the augmentation data has no size: cannot skip it. */
	if (aug[0] != 'z' || !p)
		return;
	for (aug++; *aug; aug++) {
		uint64_t ignored;

		switch (*aug) {
		case 'R':
			if (p >= end)
				return;
			ci->fde_enc = *p++;
			break;
		case 'L':
			if (p >= end)
				return;
			p++;
			break;
		case 'P': {
			uint8_t enc;

			if (p >= end)
				return;
			enc = *p++;
			/* Only its size matters: decode without applying. */
			if (!read_encoded(r, &p, end, enc & 0x0f, false, &ignored))
				return;
			break;
		}
		case 'S':
		case 'B':
			break;
		default:
			return;
		}
	}
	ci->usable = true;
}

static const struct cie_info *find_cie(const struct cie_info *cies, size_t n, Dwarf_Off off)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cies[mid].offset == off)
			return &cies[mid];
		if (cies[mid].offset < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool in_ranges(const struct range *r, size_t n, uint64_t addr)
{
	for (size_t i = 0; i < n; i++)
		if (addr >= r[i].lo && addr < r[i].hi)
			return true;
	return false;
}

static int func_cmp(const void *pa, const void *pb)
{
	const struct ehframe_func *a = pa, *b = pb;

	if (a->vaddr != b->vaddr)
		return a->vaddr < b->vaddr ? -1 : 1;
	/* The larger range first: it is the one kept. */
	return (a->size < b->size) - (a->size > b->size);
}

/* Finds .eh_frame and the PLT sections' address ranges (at most @max). */
static Elf_Scn *scan_sections(Elf *elf, struct range *plt, size_t max, size_t *nplt,
			      GElf_Shdr *eh_sh)
{
	Elf_Scn *scn = NULL, *eh = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	*nplt = 0;
	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name)
			continue;
		if (!strcmp(name, ".eh_frame") && sh.sh_type == SHT_PROGBITS && !eh) {
			eh = scn;
			*eh_sh = sh;
		} else if ((!strncmp(name, ".plt", 4) || !strcmp(name, ".iplt")) &&
			   *nplt < max && sh.sh_addr <= UINT64_MAX - sh.sh_size) {
			plt[(*nplt)++] = (struct range){ sh.sh_addr, sh.sh_addr + sh.sh_size };
		}
	}
	return eh;
}

int ehframe_functions(Elf *elf, struct ehframe_func **out, size_t *n)
{
	struct cie_info *cies = NULL;
	struct ehframe_func *funcs = NULL;
	size_t ncies = 0, capcies = 0, nfuncs = 0, capfuncs = 0, nplt;
	struct range plt[8];
	struct cfi_reader r;
	const unsigned char *ident;
	Dwarf_Off off = 0, next;
	Elf_Data *data;
	GElf_Shdr sh = {};
	Elf_Scn *scn;
	int err = 0;

	*out = NULL;
	*n = 0;
	ident = (const unsigned char *)elf_getident(elf, NULL);
	scn = scan_sections(elf, plt, sizeof(plt) / sizeof(plt[0]), &nplt, &sh);
	if (!ident || !scn)
		return 0;
	data = elf_getdata(scn, NULL);
	if (!data || !data->d_buf || !data->d_size)
		return 0;
	r.base = data->d_buf;
	r.sh_addr = sh.sh_addr;
	r.msb = ident[EI_DATA] == ELFDATA2MSB;

	for (;;) {
		Dwarf_CFI_Entry e;
		const struct cie_info *ci;
		const uint8_t *p;
		uint64_t start, size;
		int ret;

		/*
		 * dwarf_next_cfi() sets *next only once it has read a sane
		 * length: an entry whose length runs past the section fails
		 * before that, and must end the walk, not jump to whatever
		 * @next held.
		 */
		next = (Dwarf_Off)-1;
		ret = dwarf_next_cfi(ident, data, true, off, &next, &e);
		if (ret > 0)
			break;
		if (ret < 0) {
			/* A framed entry can be skipped; an unframed one ends the walk. */
			if (next == (Dwarf_Off)-1 || next <= off)
				break;
			off = next;
			continue;
		}
		if (dwarf_cfi_cie_p(&e)) {
			if (ncies == capcies) {
				size_t cap = capcies ? capcies * 2 : 16;
				void *np = reallocarray(cies, cap, sizeof(*cies));

				if (!np) {
					err = -ENOMEM;
					goto out;
				}
				cies = np;
				capcies = cap;
			}
			cies[ncies].offset = off;
			parse_cie(&r, &e.cie, &cies[ncies]);
			ncies++;
			goto next;
		}
		/* FDEs refer back to a CIE (in practice); CIEs are in offset order. */
		ci = find_cie(cies, ncies, e.fde.CIE_pointer);
		if (!ci || !ci->usable)
			goto next;
		p = e.fde.start;
		if (!read_encoded(&r, &p, e.fde.end, ci->fde_enc, true, &start) ||
		    !read_encoded(&r, &p, e.fde.end, ci->fde_enc & 0x0f, false, &size))
			goto next;
		if (!size || start > UINT64_MAX - size || in_ranges(plt, nplt, start))
			goto next;
		if (nfuncs == capfuncs) {
			size_t cap = capfuncs ? capfuncs * 2 : 256;
			void *np;

			if (nfuncs >= SITES_MAX_PER_MODULE) {
				err = -E2BIG;
				goto out;
			}
			np = reallocarray(funcs, cap, sizeof(*funcs));
			if (!np) {
				err = -ENOMEM;
				goto out;
			}
			funcs = np;
			capfuncs = cap;
		}
		funcs[nfuncs++] = (struct ehframe_func){ start, size };
next:
		if (next == (Dwarf_Off)-1 || next <= off)
			break;
		off = next;
	}

	if (nfuncs) {
		size_t i, j = 0;

		qsort(funcs, nfuncs, sizeof(*funcs), func_cmp);
		for (i = 0; i < nfuncs; i++)
			if (!j || funcs[j - 1].vaddr != funcs[i].vaddr)
				funcs[j++] = funcs[i];
		nfuncs = j;
	}
	*out = funcs;
	*n = nfuncs;
	funcs = NULL;
out:
	free(funcs);
	free(cies);
	return err;
}
