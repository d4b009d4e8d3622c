package org.peerdma.cli.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.lang.reflect.Method;

import org.junit.jupiter.api.Test;

class ErrorsTest {
    public static String takesInt(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("negative");
        }
        return Integer.toString(n);
    }

    @Test
    void reflectionRefusingGogosArgumentsIsAWrongArgumentsErrorButACommandsOwnIsNot() throws Exception {
        Method m = ErrorsTest.class.getMethod("takesInt", int.class);
        // Gogo passes a Long it parsed from -9223372036854775808 to an int parameter
        Throwable mismatch = catchThrowable(() -> m.invoke(null, Long.MIN_VALUE));
        assertThat(mismatch).isInstanceOf(IllegalArgumentException.class);
        assertThat(Errors.isArgumentMismatch(mismatch)).isTrue();
        Throwable nul = catchThrowable(() -> m.invoke(null, (Object) null));
        assertThat(Errors.isArgumentMismatch(nul)).isTrue();
        // thrown by the command itself: an internal error, reported as such
        Throwable own = Errors.unwrap(catchThrowable(() -> m.invoke(null, -1)));
        assertThat(own).hasMessage("negative");
        assertThat(Errors.isArgumentMismatch(own)).isFalse();
        assertThat(Errors.message(own)).startsWith("EIO: internal error: IllegalArgumentException: negative");
    }
}
