#include "textflag.h"

// func Lines(p unsafe.Pointer, n uintptr)
TEXT ·Lines(SB), NOSPLIT, $0-16
	MOVQ  p+0(FP), AX
	MOVQ  n+8(FP), CX
	TESTQ CX, CX
	JZ    done
	LEAQ  -1(AX)(CX*1), CX // the last byte
	SHRQ  $6, CX
	MOVQ  AX, DX
	SHRQ  $6, DX
	SUBQ  DX, CX
	INCQ  CX               // the lines overlapped
	CMPQ  CX, $16          // MaxLines
	JLE   aligned
	MOVQ  $16, CX

aligned:
	ANDQ $~63, AX

loop:
	PREFETCHT0 (AX)
	ADDQ       $64, AX
	DECQ       CX
	JNZ        loop

done:
	RET
