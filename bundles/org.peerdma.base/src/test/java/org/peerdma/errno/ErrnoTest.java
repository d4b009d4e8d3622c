package org.peerdma.errno;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ErrnoTest {
    @Test
    void numbersMatchLinux() {
        assertThat(Errno.EINVAL.number()).isEqualTo(22);
        assertThat(Errno.ENOMEM.negative()).isEqualTo(-12);
        assertThat(Errno.EOPNOTSUPP.number()).isEqualTo(95);
        assertThat(Errno.ETIMEDOUT.number()).isEqualTo(110);
        assertThat(Errno.of(-19)).contains(Errno.ENODEV);
        assertThat(Errno.of(4242)).isEmpty();
        assertThat(Errno.parse("-ebusy")).contains(Errno.EBUSY);
    }

    @Test
    void messageStartsWithErrnoName() {
        KernelException e = KernelException.einval("bad BAR %d", 7);
        assertThat(e.getMessage()).isEqualTo("EINVAL: bad BAR 7");
        assertThat(e.detail()).isEqualTo("bad BAR 7");
        assertThat(e.returnValue()).isEqualTo(-22);
    }

    @Test
    void checkTurnsKernelResultsIntoValuesOrNamedErrors() {
        assertThat(KernelException.check(5, "read")).isEqualTo(5);
        assertThat(KernelException.check(0, "close")).isZero();
        KernelException e = org.assertj.core.api.Assertions.catchThrowableOfType(
                () -> KernelException.check(-28, "IMP_TO_REFS"), KernelException.class);
        assertThat(e.errno()).isEqualTo(Errno.ENOSPC);
        assertThat(e.getMessage()).isEqualTo("ENOSPC: IMP_TO_REFS failed: ENOSPC (No space left on device)");
        KernelException odd = org.assertj.core.api.Assertions.catchThrowableOfType(
                () -> KernelException.check(-4000, "x"), KernelException.class);
        assertThat(odd.errno()).isEqualTo(Errno.EIO);
        assertThat(odd.getMessage()).contains("unknown error -4000");
    }
}
